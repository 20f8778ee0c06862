"""The gateway's CPU per ballot on its own: the real gateway process between bench.cluster's load
generator and four fake validators (tests/gateway/fake_node.py) in a process of their own.

    .venv/bin/python -m bench.gateway_loop [--seconds 10] [--repeats 3] [--against CHECKOUT]

bench.cluster measures the gateway beside four busy validators on the same cores; here the
validators cost little, so the gateway's figure is steadier and a change to it shows in a minute.
The fakes check nothing (what is measured is the gateway's own checks): each answers a
SubmitTxBatch after --verify-ms a ballot, one batch at a time, as a validator verifying at
bench.cluster's peak (~280 ballots/s) would, so the gateway's batches have about the sizes they
have there (~21 ballots a call here; 19-22 counted in the gateway during a bench.cluster peak).
A block of everything in the mempools commits every --block-s, with real certificates, and the
gateway checks every receipt's proofs as in production.

As in bench.cluster's peak phase, CONCURRENCY voters at a time cast (CastBallot) and each then
waits for its final receipt (WaitReceipt). The figure is the gateway process's CPU (all its
threads, and its main thread alone) from the first cast to the last receipt, per final receipt.
With --against, a second gateway runs the code of another checkout (say, of main) and the two take
turns, phase by phase: on a shared machine only figures of one run compare.

The ballots are one encrypted ballot signed by each voter in turn: the gateway checks signatures,
not proofs, and the fakes check nothing, so every ballot has a real one's size and form and the
run needs no minute of encryption first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import tempfile
import time
from dataclasses import astuple, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

from bench.cluster import GATEWAY_LIMITS
from bench.common import CLOCK_TICKS_PER_S, LOAD_GENERATOR, credential, definition, print_table
from bench.load import ELECTION_ID, WARMUP_S, Load, Phase, peak
from ops.cluster import GatewayProcess
from ops.cluster.gateway import write_config
from proto.votestore.v1 import election_pb2, node_pb2
from tests.gateway.fake_node import CHAIN_ID, T0_MS, FakeNode, Ledger, result, start_fake_cluster
from votestore import txbuild
from votestore.crypto import group
from votestore.crypto.ballot import encrypt_ballot
from votestore.crypto.credential import derive_credential_key
from votestore.genesis import parse_genesis

ELECTION_SECRET: Final = 0x5EED
MAX_RATE_PER_S: Final = 400
"""Ballots built per second of timed phase: more than the fakes' pace lets through."""
VALIDATORS: Final = "validators"
GATEWAY: Final = "gateway"
CALLS: Final = "calls"
"""Asks the validators' process for its Calls."""


def election_state() -> election_pb2.ElectionState:
    """bench.cluster's election (1 contest x 4 choices), open, under a fixed key."""
    return election_pb2.ElectionState(
        definition=definition(ELECTION_ID, [], start_ms=T0_MS),
        phase=election_pb2.OPEN,
        election_key=group.base_mult(ELECTION_SECRET),
    )


def signed_ballots(voters: int) -> list[bytes]:
    """Voter v's ballot: one encryption (choice 0) signed with v's credential key."""
    state = election_state()
    first = derive_credential_key(credential(0), ELECTION_ID)
    body = encrypt_ballot(
        ELECTION_ID, state.definition, state.election_key, [[0]], voter=bytes(first.verify_key)
    )
    tx = election_pb2.Tx(ballot=body)
    return [
        txbuild.signed(CHAIN_ID, derive_credential_key(credential(v), ELECTION_ID), tx) for v in range(voters)
    ]


# ---------------------------------------------------------------------- the fake validators


class TrustingLedger(Ledger):
    """Takes every transaction: the validators' checks are not what this benchmark measures."""

    def judge(self, raw: bytes) -> election_pb2.TxResult:
        return result(election_pb2.OK)


class PacedNode(FakeNode):
    """Answers a SubmitTxBatch after `verify_s` a transaction, one batch at a time: a validator's
    intake at its verify rate."""

    def __init__(self, index: int, ledger: Ledger, verify_s: float) -> None:
        super().__init__(index, ledger)
        self._verify_s = verify_s
        self._intake = asyncio.Lock()

    async def SubmitTxBatch(self, request: Any, context: Any) -> node_pb2.SubmitTxBatchReply:
        async with self._intake:
            await asyncio.sleep(self._verify_s * len(request.txs))
        return await super().SubmitTxBatch(request, context)


@dataclass(frozen=True, slots=True)
class Calls:
    """What the gateway asked of the fake validators so far, all four together."""

    submit_batches: int
    submitted: int
    proof_batches: int
    proofs_asked: int

    @classmethod
    def of(cls, nodes: list[FakeNode]) -> Calls:
        return cls(
            sum(n.batches for n in nodes),
            sum(n.submitted for n in nodes),
            sum(n.proof_batches for n in nodes),
            sum(n.proofs_asked for n in nodes),
        )

    def __sub__(self, earlier: Calls) -> Calls:
        return Calls(*(a - b for a, b in zip(astuple(self), astuple(earlier), strict=True)))


async def _serve_validators(conn: Connection, verify_s: float, block_s: float) -> None:
    ledger = TrustingLedger()
    ledger.elections[ELECTION_ID] = election_state()
    cluster = await start_fake_cluster(ledger, lambda i, shared: PacedNode(i, shared, verify_s))

    async def commit_every() -> None:
        while True:  # empty blocks too: the last ballots' results need a next block
            await asyncio.sleep(block_s)
            await ledger.commit()

    committer = asyncio.create_task(commit_every())
    conn.send(cluster.genesis.to_json())
    while await asyncio.to_thread(conn.recv) == CALLS:  # until told to stop
        conn.send(Calls.of(cluster.nodes))
    committer.cancel()
    await cluster.stop()


def serve_validators(conn: Connection, verify_s: float, block_s: float) -> None:
    """The child process: four fake validators and their block clock, until the parent says stop."""
    asyncio.run(_serve_validators(conn, verify_s, block_s))


# ---------------------------------------------------------------------- measuring the gateway


def _cpu_s(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


@dataclass(frozen=True, slots=True)
class GatewayCpu:
    """CPU seconds of the gateway process so far: all threads (gone ones too), the main thread."""

    total_s: float
    main_s: float

    @classmethod
    def of(cls, pid: int) -> GatewayCpu:
        proc = Path(f"/proc/{pid}")
        return cls(_cpu_s(proc / "stat"), _cpu_s(proc / "task" / str(pid) / "stat"))


class FakeValidators:
    """The child process of fake validators, spoken to over a pipe."""

    def __init__(self, verify_s: float, block_s: float) -> None:
        self._conn, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=serve_validators, args=(theirs, verify_s, block_s)
        )
        self._process.start()
        assert self._process.pid is not None
        self.pid: int = self._process.pid
        self.genesis_json: str = self._conn.recv()

    def calls(self) -> Calls:
        self._conn.send(CALLS)
        calls: Calls = self._conn.recv()
        return calls

    def stop(self) -> None:
        self._conn.send(None)
        self._process.join()


@dataclass(frozen=True, slots=True)
class Run:
    gateway: str
    phase: Phase
    calls: Calls
    total_ms: float
    main_ms: float
    receipts: int


async def measure(
    gateways: dict[str, GatewayProcess], validators: FakeValidators, args: argparse.Namespace
) -> list[Run]:
    """`args.repeats` peak phases on each gateway, taking turns (so both see the same machine)."""
    validator = parse_genesis(json.loads(validators.genesis_json)).validators[0].public_address
    stream = iter(signed_ballots(int(args.seconds * args.repeats * len(gateways) * MAX_RATE_PER_S)))
    runs = []
    for _ in range(args.repeats):
        for name, gateway in gateways.items():
            assert gateway.process is not None
            pid = gateway.process.pid
            load = Load(gateway.target, validator)
            try:
                before, calls_before = GatewayCpu.of(pid), validators.calls()
                phase = await peak(load, stream, args.seconds, {GATEWAY: pid, VALIDATORS: validators.pid})
                after, calls = GatewayCpu.of(pid), validators.calls() - calls_before
            finally:
                await load.close()
            receipts = len(phase.latencies_s)
            assert receipts > 0 and not phase.refused, phase.refused
            total, main = (after.total_s - before.total_s, after.main_s - before.main_s)
            runs.append(Run(name, phase, calls, total / receipts * 1000, main / receipts * 1000, receipts))
    return runs


def start_gateway(workdir: Path, genesis: Path, checkout: Path) -> GatewayProcess:
    """A gateway process running the code of `checkout` (its working directory)."""
    config, target = write_config(workdir, genesis, limits=GATEWAY_LIMITS)
    gateway = GatewayProcess(workdir, config, target)
    with contextlib.chdir(checkout):
        gateway.start()
    return gateway


def _run_rows(label: str, run: Run) -> list[tuple[str, object]]:
    phase, calls = run.phase, run.calls
    assert phase.cpu is not None
    cores = {name: round(phase.cpu.share(name), 2) for name in (GATEWAY, VALIDATORS, LOAD_GENERATOR)}
    cast_p50 = sorted(phase.cast_s)[len(phase.cast_s) // 2] * 1000
    return [
        (f"{label}: committed", f"{phase.rate:.0f} ballots/s, {phase.blocks / phase.counted_s:.1f} blocks/s"),
        (f"{label}: cast answered p50", f"{cast_p50:.0f} ms"),
        (f"{label}: CPU cores", cores),
        (
            f"{label}: calls to validators a ballot",
            f"{calls.submit_batches / run.receipts:.2f} SubmitTxBatch "
            f"({calls.submitted / max(calls.submit_batches, 1):.1f} each), "
            f"{calls.proof_batches / run.receipts:.3f} GetTxBatch, "
            f"{calls.proofs_asked / run.receipts:.3f} GetTx",
        ),
        (
            f"{label}: gateway CPU per final receipt",
            f"{run.total_ms:.3f} ms (main thread {run.main_ms:.3f}) over {run.receipts}",
        ),
    ]


def report(runs: list[Run], names: list[str]) -> None:
    rows: list[tuple[str, object]] = []
    for i, run in enumerate(runs):
        rows += _run_rows(f"run {i // len(names) + 1} {run.gateway}", run)
    for name in names:
        mine = sorted(r.total_ms for r in runs if r.gateway == name)
        best = min((r for r in runs if r.gateway == name), key=lambda r: r.total_ms)
        rows.append(
            (
                f"{name}: gateway CPU per ballot, best / median",
                f"{best.total_ms:.3f} / {mine[len(mine) // 2]:.3f} ms "
                f"(the best's main thread {best.main_ms:.3f})",
            )
        )
    print_table(f"gateway CPU per ballot, fake validators (load {os.getloadavg()[0]:.1f})", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed phase")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--verify-ms", type=float, default=3.5, help="a fake validator's time a ballot")
    parser.add_argument("--block-s", type=float, default=0.35, help="time between fake blocks")
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another checkout whose gateway takes turns with this one's",
    )
    args = parser.parse_args()
    assert args.seconds > WARMUP_S + 1, "a phase must outlast its warm-up"
    checkouts = {"this": Path.cwd()}
    if args.against is not None:
        checkouts[str(args.against)] = args.against.resolve()
    validators = FakeValidators(args.verify_ms / 1000, args.block_s)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="votestore-gateway-loop-") as tmp,
            contextlib.ExitStack() as stack,
        ):
            genesis = Path(tmp) / "genesis.json"
            genesis.write_text(validators.genesis_json)
            gateways = {}
            for name, checkout in checkouts.items():
                workdir = Path(tempfile.mkdtemp(dir=tmp))
                gateways[name] = start_gateway(workdir, genesis, checkout)
                stack.callback(gateways[name].stop)
            started = time.perf_counter()
            runs = asyncio.run(measure(gateways, validators, args))
            print(f"measured in {time.perf_counter() - started:.0f} s")
        report(runs, list(checkouts))
    finally:
        validators.stop()


if __name__ == "__main__":
    main()
