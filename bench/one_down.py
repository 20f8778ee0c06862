"""One validator of four down: what a voter waits for a receipt, against all four up, in one run.

    .venv/bin/python -m bench.one_down [--ballots 16000] [--seconds 15]

Four validators (default timeouts: timeoutPropose 3 s) and a gateway on 127.0.0.1, as in
bench.cluster. All up: a peak phase, then a phase at half of that peak. Then validator 3 is
killed (kill -9) and, once the leader rule has seen it miss (node/consensus/leader.py: one
missed round-0 turn), the same two phases again, at the same half-of-peak
rate as all-up. Prints receipt p50/p99 and committed ballots/s for each, the ratios the issue
asks for (p50 within 1.5x, p99 within 2x at half of peak; peak at least 70 %), how long the rule
took to skip the dead validator, and how many of its round-0 turns were skipped or waited out
(from the committed certificates' rounds and headers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Final

from bench.cluster import NODE_SETTINGS, VALIDATORS, start_gateway
from bench.common import build_ballots, configure_nodes, open_election, percentile, print_table, write_result
from bench.load import ELECTION_ID, Load, Phase, peak, steady
from gateway.server import tune_gc
from ops.cluster import LocalNet
from proto.votestore.v1 import node_pb2, node_pb2_grpc

DEAD: Final = 3
SETTLE_TIMEOUT_S: Final = 120.0
GOAL_P50: Final = 1.5
GOAL_P99: Final = 2.0
GOAL_PEAK: Final = 0.70


async def _phases(
    load: Load, txs: list[bytes], seconds: float, roots: dict[str, int], rate: float | None
) -> tuple[Phase, Phase]:
    stream = iter(txs)
    top = await peak(load, stream, seconds, roots)
    half = await steady(load, stream, rate if rate is not None else top.rate / 2, seconds, roots)
    return top, half


def _height(net: LocalNet, i: int) -> int:
    status = net.status(i)
    assert status is not None, f"validator {i} does not answer"
    return int(status.height)


def _settle(net: LocalNet) -> tuple[float, int]:
    """Blocks until the chain is past the dead validator's first round-0 turn after the kill (the
    leader rule skips it from then on: node/consensus/leader.py); returns the seconds that took
    and the height reached."""
    started = time.perf_counter()
    first = _height(net, 0) + 1
    target = next(h for h in range(first, first + VALIDATORS) if h % VALIDATORS == DEAD) + 1
    deadline = started + SETTLE_TIMEOUT_S
    while _height(net, 0) < target:
        if time.perf_counter() > deadline:
            raise SystemExit(f"the chain did not reach height {target} in {SETTLE_TIMEOUT_S:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - started, _height(net, 0)


def _turns(net: LocalNet, first: int, last: int) -> dict[str, int]:
    """Round-0 turns of the dead validator by plain round-robin between first and last, and what
    became of each: skipped by the rule (round 0, another proposer), or waited out (round > 0)."""
    counts = {"turns": 0, "skipped": 0, "waited_out": 0}
    with net.connect(net.addresses[0]) as channel:
        stub = node_pb2_grpc.NodeStub(channel)
        height = first
        while height <= last:
            request = node_pb2.GetBlocksRequest(from_height=height, to_height=last)
            for committed in stub.GetBlocks(request, timeout=60):
                h = committed.block.header.height
                height = h + 1
                if h % VALIDATORS != DEAD:
                    continue
                counts["turns"] += 1
                if committed.certificate.round > 0:
                    counts["waited_out"] += 1
                elif committed.block.header.proposer != DEAD:
                    counts["skipped"] += 1
    return counts


def _p(phase: Phase, q: float) -> float:
    return percentile(phase.latencies_s, q) * 1000 if phase.latencies_s else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=16000, help="ballots built before timing")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each timed phase")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", default="one-down", help="name of the JSON under bench/results/")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="votestore-bench-"))
    net = LocalNet.create(workdir / "net", VALIDATORS)
    configure_nodes(net, NODE_SETTINGS)
    with net, contextlib.ExitStack() as stack:
        net.start_all()
        net.wait_ready()
        state = open_election(net, ELECTION_ID, args.ballots)
        txs = build_ballots(net.genesis.chain_id, state, range(args.ballots))
        half_of_txs = len(txs) // 2
        gateway = start_gateway(workdir, net)
        stack.callback(gateway.stop)
        assert gateway.process is not None
        roots = {f"validator {i}": net.processes[i].pid for i in range(VALIDATORS)}
        roots["gateway"] = gateway.process.pid
        tune_gc()

        async def all_up() -> tuple[Phase, Phase]:
            load = Load(gateway.target, net.dialer.aio(0, net.addresses[0]))
            try:
                return await _phases(load, txs[:half_of_txs], args.seconds, roots, None)
            finally:
                await load.close()

        up_peak, up_half = asyncio.run(all_up())
        killed_at = _height(net, 0)
        net.kill(DEAD)
        del roots[f"validator {DEAD}"]
        settle_s, settled_at = _settle(net)

        async def one_down() -> tuple[Phase, Phase]:
            load = Load(gateway.target, net.dialer.aio(0, net.addresses[0]))
            try:
                return await _phases(load, txs[half_of_txs:], args.seconds, roots, up_half.rate)
            finally:
                await load.close()

        down_peak, down_half = asyncio.run(one_down())
        turns_settling = _turns(net, killed_at + 1, settled_at)
        turns_down = _turns(net, settled_at + 1, _height(net, 0))
    ratios = {
        "half_p50_down_over_up": round(_p(down_half, 50) / _p(up_half, 50), 2),
        "half_p99_down_over_up": round(_p(down_half, 99) / _p(up_half, 99), 2),
        "peak_down_over_up": round(down_peak.rate / up_peak.rate, 2) if up_peak.rate else 0.0,
    }
    goals = {
        f"half-of-peak p50 within {GOAL_P50}x": ratios["half_p50_down_over_up"] <= GOAL_P50,
        f"half-of-peak p99 within {GOAL_P99}x": ratios["half_p99_down_over_up"] <= GOAL_P99,
        f"peak at least {GOAL_PEAK:.0%} of all-up": ratios["peak_down_over_up"] >= GOAL_PEAK,
    }
    phases = {"all up, peak": up_peak, "all up, half": up_half, "one down, peak": down_peak}
    phases["one down, half"] = down_half
    result = {
        "command": f".venv/bin/python -m bench.one_down --ballots {args.ballots} --seconds {args.seconds:g}",
        "phases": {
            name: {
                "committed_ballots_per_s": round(p.rate, 1),
                "p50_ms": round(_p(p, 50), 1),
                "p99_ms": round(_p(p, 99), 1),
                "refused": p.refused,
            }
            for name, p in phases.items()
        },
        "settle_s": round(settle_s, 2),
        "dead_turns_while_settling": turns_settling,
        "dead_turns_after": turns_down,
        "ratios": ratios,
        "goals": goals,
    }
    path = write_result(args.out, result)
    rows: list[tuple[str, object]] = []
    for name, p in phases.items():
        rows.append((f"{name}: committed", f"{p.rate:.1f} ballots/s"))
        rows.append((f"{name}: receipt p50/p99", f"{_p(p, 50):.0f}/{_p(p, 99):.0f} ms"))
    rows += [
        ("killed validator", f"{DEAD} at height {killed_at}"),
        ("until the rule skipped it", f"{settle_s:.1f} s (to height {settled_at}), turns {turns_settling}"),
        ("its turns while down, after that", turns_down),
        (
            "half of peak p50 / p99, down over up",
            f"{ratios['half_p50_down_over_up']}x / {ratios['half_p99_down_over_up']}x",
        ),
        ("peak, down over up", f"{ratios['peak_down_over_up']:.0%}"),
    ]
    rows += [(goal, "met" if met else "NOT met") for goal, met in goals.items()]
    print_table("votestore: one validator of four down", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
