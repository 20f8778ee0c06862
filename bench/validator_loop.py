"""A validator's CPU per ballot outside the cryptography, measured in one process: the parts of
`bench.cluster`'s "validator CPU per ballot" that are not the verify worker's proofs.

    .venv/bin/python -m bench.validator_loop [--voters 2700] [--per-block 90]

- execute_block: applying blocks of preverified ballots (the benchmark's 1 x 4 ballot), with the
  tally decoding every ballot's points itself and with the points the verify worker handed over.
- worker round trip: the checks of a batch on a one-process `VerifyPool` (the node's) and on a
  one-process ProcessPoolExecutor (its predecessor) against the same checks in this process: the
  worker's CPU over the in-process time, and this process's CPU per ballot.
- intake: a NodeShell (real store, the chain's app, a one-process pool) taking ballots in batches
  of SUBMIT_BATCH as SubmitTxBatch hands them over, by `submit` for each (gathered) and by
  `submit_many`: the event loop thread's CPU per ballot.
- a height: a NodeShell whose store holds the chain, at each height taking a block's ballots by
  `submit_many`, three peers' announcements of them, checking the proposal (`shell.validity`)
  and committing the decided block (`shell.committer`): the event loop thread's CPU per ballot for all of it
  (not counted: gRPC, consensus messages, the proposer's work).

Each figure is the best of REPEATS (the machine is shared); compare figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path
from typing import Final

from bench.common import definition, print_table
from election.policy import BlockContext
from election.stateless import ElectionParams, verify_tx_handover, verify_tx_stateless
from node.admission import SubmitOutcome
from node.intake import VERIFY_BATCH_TXS
from node.shell import NodeShell
from node.verify_pool import VerifyPool
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, new_trustees, voter_key
from tests.ledger.harness import (
    AUTHORITY,
    BLOCK_MS,
    CHAIN_ID,
    PROVIDER,
    WINDOW_START_MS,
    Chain,
    code,
    create,
)
from tests.node.commit_kit import decided, next_block, stored_shell
from tests.node.shell_kit import intake_shell
from votestore import txbuild
from votestore.encoding import block_id, canonical, tx_hash

REPEATS: Final = 5
SUBMIT_BATCH: Final = 64
ROLL_BATCH: Final = 2000


def opened_election(voters: int) -> Election:
    """The cluster benchmark's election (1 contest x 4 choices) on a one-process chain."""
    trustees = new_trustees(3)
    body = definition(ELECTION, trustees, start_ms=WINDOW_START_MS)  # type: ignore[arg-type]
    body.credential_authority = bytes(AUTHORITY.verify_key)  # the roles the election kit signs as
    body.identity_provider = bytes(PROVIDER.verify_key)
    election = Election(Chain(), trustees, body)
    assert election.chain.one(create(body)) == "OK"
    rows = [(voter_key(v), "") for v in range(voters)]
    roll = txbuild.roll_batches(CHAIN_ID, AUTHORITY, ELECTION, rows, batch_size=ROLL_BATCH)
    assert {code(r) for r in election.chain.block(roll)} == {"OK"}
    return election.opened()


def best_s(run: Callable[[], object]) -> float:
    runs = []
    for _ in range(REPEATS):
        started = time.process_time()
        run()
        runs.append(time.process_time() - started)
    return min(runs)


def execute_us(election: Election, blocks: list[list[bytes]], points: Mapping[bytes, bytes]) -> float:
    """Microseconds of `execute_block` per ballot, every block applied to the same committed
    state (nothing is committed, so each run does the same work)."""
    app = election.chain.app
    verified = {tx_hash(raw) for block in blocks for raw in block}
    ctx = BlockContext(app.height + 1, election.chain.time_ms + BLOCK_MS)

    def run() -> None:
        for block in blocks:
            outcome = app.execute_block(ctx, block, verified, points)
            assert code(outcome.results[-1]) == "OK"

    return best_s(run) / sum(len(b) for b in blocks) * 1e6


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _handover_batch(items: list[tuple[bytes, ElectionParams]]) -> list[tuple[object, bytes]]:
    """The checks of a batch on a ProcessPoolExecutor worker (top level: picklable)."""
    return [verify_tx_handover(CHAIN_ID, raw, params) for raw, params in items]


def _batches(raws: list[bytes], params: ElectionParams) -> list[list[tuple[bytes, ElectionParams]]]:
    return [
        [(raw, params) for raw in raws[at : at + VERIFY_BATCH_TXS]]
        for at in range(0, len(raws), VERIFY_BATCH_TXS)
    ]


def round_trip_executor(raws: list[bytes], params: ElectionParams) -> tuple[float, float]:
    """(worker, this process) CPU microseconds per ballot, every batch queued at once on a
    one-process ProcessPoolExecutor: the node's pool before VerifyPool, as the baseline."""
    batches = _batches(raws, params)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_handover_batch, batches[0][:1]).result()
        (worker,) = pool._processes  # the one worker's pid, for its CPU
        runs = []
        for _ in range(REPEATS):
            worker_before, mine_before = _cpu_s(worker), time.process_time()
            wait([pool.submit(_handover_batch, batch) for batch in batches])
            runs.append((_cpu_s(worker) - worker_before, time.process_time() - mine_before))
    return _per_ballot_us(min(runs), len(raws))


def round_trip(raws: list[bytes], params: ElectionParams) -> tuple[float, float]:
    """(worker, this process) CPU microseconds per ballot, every batch queued at once on a
    one-process VerifyPool, as the node's intake sends them."""
    batches = _batches(raws, params)

    async def run() -> list[tuple[float, float]]:
        pool = await VerifyPool.start(CHAIN_ID, 1)
        try:
            await pool.submit(batches[0][:1])
            (worker,) = pool.pids
            runs = []
            for _ in range(REPEATS):
                worker_before, mine_before = _cpu_s(worker), time.process_time()
                await asyncio.gather(*(pool.submit(batch) for batch in batches))
                runs.append((_cpu_s(worker) - worker_before, time.process_time() - mine_before))
            return runs
        finally:
            await pool.close()

    return _per_ballot_us(min(asyncio.run(run())), len(raws))


def _per_ballot_us(seconds: tuple[float, float], ballots: int) -> tuple[float, float]:
    worker, mine = seconds
    return worker / ballots * 1e6, mine / ballots * 1e6


def intake_us(election: Election, raws: list[bytes], many: bool) -> float:
    """Event-loop thread CPU microseconds per ballot taken into a fresh shell's mempool."""
    batches = [raws[at : at + SUBMIT_BATCH] for at in range(0, len(raws), SUBMIT_BATCH)]

    async def take(shell: NodeShell) -> float:
        started = time.thread_time()
        for batch in batches:
            if many:
                outcomes = await shell.admission.submit_many(batch)
            else:
                outcomes = await asyncio.gather(*(shell.admission.submit(raw) for raw in batch))
            assert all(isinstance(o, SubmitOutcome) and o.detail == "pending" for o in outcomes)
        return time.thread_time() - started

    best = _best_on_fresh_shells(lambda tmp, pool: intake_shell(tmp, election.chain.app, pool), take)
    return best / len(raws) * 1e6


def _best_on_fresh_shells(
    make: Callable[[Path, VerifyPool], NodeShell], run: Callable[[NodeShell], Awaitable[float]]
) -> float:
    """The least of REPEATS runs, each on a fresh shell, all sharing a one-process VerifyPool."""

    async def fresh_shells() -> list[float]:
        pool = await VerifyPool.start(CHAIN_ID, 1)
        runs = []
        try:
            for _ in range(REPEATS):
                with tempfile.TemporaryDirectory() as tmp:
                    shell = make(Path(tmp), pool)
                    runs.append(await run(shell))
                    shell.store.close()
        finally:
            await pool.close()
        return runs

    return min(asyncio.run(fresh_shells()))


def height_us(election: Election, blocks: list[list[bytes]]) -> float:
    """Event-loop thread CPU microseconds per ballot of a validator's work at a height."""

    async def heights(shell: NodeShell) -> float:
        spent = 0.0
        for block in blocks:
            hashes = [tx_hash(raw) for raw in block]  # what the peers announce
            started = time.thread_time()
            for at in range(0, len(block), SUBMIT_BATCH):
                await shell.admission.submit_many(block[at : at + SUBMIT_BATCH])
            for peer in range(1, 4):
                shell.gossip.on_announce(peer, hashes)
            spent += time.thread_time() - started
            proposal = next_block(shell, shell.pending.reap(len(block), 2**31))  # the proposer's
            payload = canonical(proposal)
            started = time.thread_time()
            header = proposal.header
            assert shell.validity(header.height, frozenset({header.proposer}), block_id(header), payload)
            await shell.committer.commit(decided(proposal))
            spent += time.thread_time() - started
        assert shell.store.results(shell.store.height)[-1].code == election_pb2.OK
        return spent

    best = _best_on_fresh_shells(lambda tmp, pool: stored_shell(tmp, election.chain, pool), heights)
    return best / sum(len(b) for b in blocks) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=2700)
    parser.add_argument("--per-block", type=int, default=90)
    parser.add_argument("--round-trip-ballots", type=int, default=1600)
    args = parser.parse_args()
    election = opened_election(args.voters)
    raws = [election.ballot(v, [[v % 4]]) for v in range(args.voters)]
    blocks = [raws[at : at + args.per_block] for at in range(0, len(raws), args.per_block)]
    params = election.chain.app.params_for(raws[0])
    assert params is not None
    points = {tx_hash(raw): verify_tx_handover(CHAIN_ID, raw, params)[1] for raw in raws}
    decoding = execute_us(election, blocks, {})
    handed = execute_us(election, blocks, points)
    sample = raws[: args.round_trip_ballots]
    here = best_s(lambda: [verify_tx_stateless(CHAIN_ID, raw, params) for raw in sample]) / len(sample) * 1e6
    old_worker, old_loop = round_trip_executor(sample, params)
    in_worker, in_loop = round_trip(sample, params)
    gathered = intake_us(election, raws[: args.round_trip_ballots], many=False)
    many = intake_us(election, raws[: args.round_trip_ballots], many=True)
    height = height_us(election, blocks[: args.round_trip_ballots // args.per_block])
    print_table(
        f"validator CPU per ballot outside the proofs (load {os.getloadavg()[0]:.1f})",
        [
            (f"execute_block ({args.per_block} a block), tally decodes the points", f"{decoding:6.1f} us"),
            (
                "execute_block, points handed over by the worker",
                f"{handed:6.1f} us ({handed / decoding:.2f}x)",
            ),
            ("verify in this process", f"{here:6.1f} us"),
            ("ProcessPoolExecutor worker: worker CPU", f"{old_worker:6.1f} us ({old_worker / here:.3f}x)"),
            ("ProcessPoolExecutor worker: this process", f"{old_loop:6.1f} us"),
            ("VerifyPool worker: worker CPU", f"{in_worker:6.1f} us ({in_worker / here:.3f}x)"),
            ("VerifyPool worker: this process", f"{in_loop:6.1f} us ({in_loop / old_loop:.2f}x)"),
            (f"intake, {SUBMIT_BATCH} a batch: submit each, gathered", f"{gathered:6.1f} us"),
            ("intake: submit_many", f"{many:6.1f} us ({many / gathered:.2f}x)"),
            (
                f"a height ({args.per_block} a block): intake, announcements, validity, commit",
                f"{height:6.1f} us",
            ),
        ],
    )


if __name__ == "__main__":
    main()
