"""Roll benchmark: signed RollAppend records (small batches, an Ed25519 signature each, no ballot
proofs) through 4 validators on 127.0.0.1, submitted straight to the nodes' SubmitTx.

    .venv/bin/python -m bench.roll [--elections 256] [--batch 10] [--seconds 20]

A roll's batches must commit in order (a batch names its number), so one election takes one batch
per block; the load runs `--elections` rolls side by side, each submitting its next batch once
the previous one is seen committed (WatchCommits on validator 0). Counted: roll entries and
transactions committed OK per second after a warm-up, submit-to-commit latency, CPU per process.
Goal: >= 3,000 records/s (Indy Plenum, the Python BFT ledger: 138 signed writes/s at best).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc.aio

from bench.common import (
    LOAD_GENERATOR,
    ROLES,
    CpuMeter,
    CpuWindow,
    configure_nodes,
    definition,
    latency_ms,
    print_table,
    write_result,
)
from ops.cluster import LocalNet, election
from ops.cluster.trustees import new_trustees
from proto.votestore.v1 import election_pb2, node_pb2, node_pb2_grpc
from votestore import txbuild
from votestore.client.node import NodeClient
from votestore.encoding import tx_hash

VALIDATORS: Final = 4
WARMUP_S: Final = 3.0
SEED: Final = 20260110
GOAL_RECORDS_PER_S: Final = 3000
PLENUM_WRITES_PER_S: Final = 138
NODE_SETTINGS: Final = {"batch_wait_ms": 20, "block_max_txs": 5000}
SUBMIT_TIMEOUT_S: Final = 30.0
COMMIT_WAIT_S: Final = 60.0
RETRY_PAUSE_S: Final = 0.01


@dataclass
class Tally:
    """What the load saw; `counting` is on only in the timed part of the run."""

    counting: bool = False
    txs: int = 0
    entries: int = 0
    latencies_s: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)


class Commits:
    """Committed transaction hashes from one validator's WatchCommits, handed to their waiters."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub
        self._waiting: dict[bytes, asyncio.Future[int]] = {}

    def expect(self, h: bytes) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting[h] = future
        return future

    async def follow(self, from_height: int) -> None:
        request = node_pb2.WatchCommitsRequest(from_height=from_height)
        async for event in self._stub.WatchCommits(request):
            for h, result in zip(event.tx_hashes, event.results, strict=True):
                future = self._waiting.pop(h, None)
                if future is not None and not future.done():
                    future.set_result(result.code)


async def one_roll(
    net: LocalNet, stubs: list[Any], commits: Commits, tally: Tally, election: int, batch: int, stop_at: float
) -> None:
    """Append batches to one election's roll, each after the previous one committed."""
    rng = random.Random(SEED + election)
    election_id = f"roll-{election}"
    stub = stubs[election % len(stubs)]
    number = 0
    while time.perf_counter() < stop_at:
        rows = [(rng.randbytes(32), "") for _ in range(batch)]
        raw = txbuild.roll_append(net.genesis.chain_id, ROLES.authority, election_id, number, rows)
        waiter = commits.expect(tx_hash(raw))
        started = time.perf_counter()
        while True:
            answer = await stub.SubmitTx(node_pb2.SubmitTxRequest(tx=raw), timeout=SUBMIT_TIMEOUT_S)
            if answer.code == election_pb2.OK:
                break
            name = election_pb2.ResultCode.Name(answer.code)
            tally.refused[name] = tally.refused.get(name, 0) + 1
            # This validator has not applied the block validator 0 reported yet: ask again.
            assert answer.code == election_pb2.OUT_OF_ORDER, (name, answer.detail)
            await asyncio.sleep(RETRY_PAUSE_S)
        code = await asyncio.wait_for(waiter, COMMIT_WAIT_S)
        assert code == election_pb2.OK, election_pb2.ResultCode.Name(code)  # type: ignore[arg-type]
        number += 1
        if tally.counting:
            tally.txs += 1
            tally.entries += batch
            tally.latencies_s.append(time.perf_counter() - started)


async def run_load(
    net: LocalNet, elections: int, batch: int, seconds: float, roots: dict[str, int]
) -> tuple[Tally, CpuWindow, float]:
    channels = [grpc.aio.insecure_channel(a) for a in net.addresses]
    stubs: list[Any] = [node_pb2_grpc.NodeStub(c) for c in channels]
    try:
        status = await stubs[0].GetStatus(node_pb2.GetStatusRequest(), timeout=10)
        commits = Commits(stubs[0])
        follower = asyncio.create_task(commits.follow(status.height + 1))
        tally = Tally()
        stop_at = time.perf_counter() + seconds
        rolls = [
            asyncio.create_task(one_roll(net, stubs, commits, tally, e, batch, stop_at))
            for e in range(elections)
        ]
        await asyncio.sleep(WARMUP_S)
        tally.counting = True
        meter, started = CpuMeter(roots), time.perf_counter()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        tally.counting = False
        window, counted_s = meter.stop(), time.perf_counter() - started
        await asyncio.gather(*rolls)
        follower.cancel()
    finally:
        for channel in channels:
            await channel.close()
    return tally, window, counted_s


def create_elections(net: LocalNet, count: int) -> None:
    chain, admin = net.genesis.chain_id, net.admin_key
    trustees = new_trustees(3)
    now = int(time.time() * 1000)
    txs = [
        txbuild.election_create(chain, admin, definition(f"roll-{e}", trustees, start_ms=now))
        for e in range(count)
    ]
    with NodeClient(net.addresses) as node:
        election.commit_together(node, txs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elections", type=int, default=256, help="rolls appended side by side")
    parser.add_argument("--batch", type=int, default=10, help="roll entries per signed transaction")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", default="roll", help="name of the JSON under bench/results/")
    args = parser.parse_args()
    assert args.seconds > WARMUP_S + 1, "the run must outlast its warm-up"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="votestore-bench-roll-"))
    net = LocalNet.create(workdir / "net", VALIDATORS)
    configure_nodes(net, NODE_SETTINGS)
    with net:
        net.start_all()
        net.wait_ready()
        create_elections(net, args.elections)
        roots = {f"validator {i}": net.processes[i].pid for i in range(VALIDATORS)}
        tally, cpu, counted_s = asyncio.run(run_load(net, args.elections, args.batch, args.seconds, roots))
    records = tally.entries / counted_s
    writes = tally.txs / counted_s
    validator_cpu = sum(cpu.seconds[f"validator {i}"] for i in range(VALIDATORS)) / VALIDATORS
    result = {
        "command": f".venv/bin/python -m bench.roll --elections {args.elections} --batch {args.batch} "
        f"--seconds {args.seconds:g}",
        "validators": VALIDATORS,
        "entries_per_tx": args.batch,
        "counted_s": round(counted_s, 2),
        "records_per_s": round(records, 1),
        "signed_writes_per_s": round(writes, 1),
        "latency": latency_ms(tally.latencies_s),
        "refused": tally.refused,
        "cpu_cores": {name: round(cpu.share(name), 2) for name in cpu.seconds},
        "load_generator_cpu_cores": round(cpu.share(LOAD_GENERATOR), 2),
        "other_processes_cores": round(cpu.others_cores, 2),
        "validator_cpu_us_per_signed_write": round(validator_cpu / max(tally.txs, 1) * 1e6, 1),
        "goals": {f">= {GOAL_RECORDS_PER_S} records/s": records >= GOAL_RECORDS_PER_S},
        "peer": {"indy_plenum_signed_writes_per_s": PLENUM_WRITES_PER_S, "latency_floor_s": 3},
    }
    path = write_result(args.out, result)
    latency = result["latency"]
    assert isinstance(latency, dict)
    print_table(
        "votestore roll benchmark",
        [
            ("rolls side by side x entries per tx", f"{args.elections} x {args.batch}"),
            ("roll records committed", f"{records:.0f} records/s"),
            ("signed writes committed", f"{writes:.0f} tx/s (Indy Plenum: {PLENUM_WRITES_PER_S}/s)"),
            (
                "submit-to-commit p50/p95/p99",
                f"{latency.get('p50_ms')}/{latency.get('p95_ms')}/{latency.get('p99_ms')} ms",
            ),
            ("CPU cores", result["cpu_cores"]),
            ("other processes on the machine", f"{result['other_processes_cores']} cores"),
            ("refused, then submitted again", tally.refused or "none"),
            (
                f"goal >= {GOAL_RECORDS_PER_S} records/s",
                "met" if records >= GOAL_RECORDS_PER_S else "NOT met",
            ),
        ],
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
