"""Catch-up benchmark: a validator is offline while 10,000 ballots commit, then restarted; timed
from its start until it holds the others' height, every block's certificate checked on the way.

    .venv/bin/python -m bench.catchup [--ballots 10000]

The ballots are built before anything is timed and submitted straight to the three running
validators. Catch-up trusts a ballot whose OK result the next certified header covers (no
re-verification, node/catchup.py), so its cost is fetching, certificate checks and applying.
Goal: >= 5,000 ballots/s caught up.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import grpc.aio

from bench.common import (
    CpuMeter,
    build_ballots,
    configure_nodes,
    open_election,
    print_table,
    write_result,
)
from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2, node_pb2, node_pb2_grpc
from votestore.client.node import NodeClient

ELECTION_ID: Final = "catchup"
VALIDATORS: Final = 4
OFFLINE: Final = 3
IN_FLIGHT: Final = 48
"""Submits in flight across the three running validators."""
SUBMIT_TIMEOUT_S: Final = 60.0
COMMIT_TIMEOUT_S: Final = 240.0
CATCHUP_TIMEOUT_S: Final = 240.0
POLL_S: Final = 0.2
GOAL_PER_S: Final = 5000
NODE_SETTINGS: Final = {"batch_wait_ms": 50, "block_max_txs": 2000}


async def submit_all(addresses: list[str], txs: list[bytes]) -> None:
    """Every ballot to one running validator (round robin), IN_FLIGHT at a time; all must be taken."""
    channels = [grpc.aio.insecure_channel(a) for a in addresses]
    stubs: list[Any] = [node_pb2_grpc.NodeStub(c) for c in channels]
    queue = list(enumerate(txs))
    queue.reverse()

    async def worker() -> None:
        while queue:
            at, raw = queue.pop()
            answer = await stubs[at % len(stubs)].SubmitTx(
                node_pb2.SubmitTxRequest(tx=raw), timeout=SUBMIT_TIMEOUT_S
            )
            assert answer.code == election_pb2.OK, answer

    try:
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    finally:
        for channel in channels:
            await channel.close()


def wait_counted(node: NodeClient, ballots: int) -> None:
    deadline = time.monotonic() + COMMIT_TIMEOUT_S
    while node.election(ELECTION_ID).ballots < ballots:
        assert time.monotonic() < deadline, f"{ballots} ballots not committed in {COMMIT_TIMEOUT_S:.0f} s"
        time.sleep(POLL_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", default="catchup", help="name of the JSON under bench/results/")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="votestore-bench-catchup-"))
    net = LocalNet.create(workdir / "net", VALIDATORS)
    configure_nodes(net, NODE_SETTINGS)
    running = [i for i in range(VALIDATORS) if i != OFFLINE]
    with net, NodeClient([net.addresses[i] for i in running]) as node:
        net.start_all()
        net.wait_ready()
        state = open_election(net, ELECTION_ID, args.ballots)
        txs = build_ballots(net.genesis.chain_id, state, range(args.ballots))
        assert net.stop(OFFLINE) == 0
        gap_from = node.status().height
        started = time.perf_counter()
        asyncio.run(submit_all([net.addresses[i] for i in running], txs))
        wait_counted(node, args.ballots)
        commit_s = time.perf_counter() - started
        target = node.status().height
        net.start(OFFLINE)
        meter, started = CpuMeter({"restarted validator": net.processes[OFFLINE].pid}), time.perf_counter()
        net.wait_ready([OFFLINE])
        ready_s = time.perf_counter() - started
        net.wait_height(target, [OFFLINE], timeout_s=CATCHUP_TIMEOUT_S)
        total_s = time.perf_counter() - started
        cpu = meter.stop()
        with NodeClient([net.addresses[OFFLINE]]) as restarted:
            caught = restarted.election(ELECTION_ID).ballots
        assert caught == args.ballots, (caught, args.ballots)
        log = (net.workdir / f"node{OFFLINE}.log").read_text(errors="replace")
    blocks = target - gap_from
    catchup_s = total_s - ready_s
    rate = args.ballots / catchup_s
    cpu_s = cpu.seconds["restarted validator"]
    result = {
        "command": f".venv/bin/python -m bench.catchup --ballots {args.ballots}",
        "ballots": args.ballots,
        "blocks_behind": blocks,
        "commit_with_3_validators_s": round(commit_s, 2),
        "process_start_to_ready_s": round(ready_s, 2),
        "ready_to_caught_up_s": round(catchup_s, 2),
        "caught_up_ballots_per_s": round(rate, 1),
        "caught_up_ballots_per_s_with_start": round(args.ballots / total_s, 1),
        "restarted_validator_cpu_s": round(cpu_s, 2),
        "cpu_us_per_caught_up_ballot": round(cpu_s / args.ballots * 1e6, 1),
        "catchup_log_lines": log.count("event=caught_up"),
        "bad_certificates": log.count("catchup_bad_certificate"),
        "goals": {f">= {GOAL_PER_S} ballots/s": rate >= GOAL_PER_S},
    }
    path = write_result(args.out, result)
    print_table(
        "votestore catch-up benchmark",
        [
            ("ballots committed while offline", f"{args.ballots} in {blocks} blocks ({commit_s:.1f} s)"),
            ("process start to ready", f"{ready_s:.2f} s"),
            ("ready to caught up", f"{catchup_s:.2f} s"),
            ("caught up", f"{rate:.0f} ballots/s ({args.ballots / total_s:.0f}/s counting the start)"),
            ("CPU of the restarted validator", f"{cpu_s:.2f} s = {cpu_s / args.ballots * 1e6:.0f} us/ballot"),
            (f"goal >= {GOAL_PER_S} ballots/s", "met" if rate >= GOAL_PER_S else "NOT met"),
        ],
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
