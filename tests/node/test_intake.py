"""A shell's intake in one process: `submit_many` answers each transaction in order as `submit`
would, a full mempool in its place, and ballots checked on the pool keep their decoded points
until they leave the mempool."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from node import pending as pending_module
from node.admission import Resources, SubmitOutcome
from node.verify_pool import VerifyPool
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import Election
from tests.ledger.harness import CHAIN_ID
from tests.node.shell_kit import intake_shell
from votestore.encoding import MAX_TX_BYTES, tx_hash

VOTERS = 8
CHOICE = ((1,), (0,))
OVERSIZE = b"\x0a" * (MAX_TX_BYTES + 1)


@contextlib.asynccontextmanager
async def one_worker(on_pool: bool = True) -> AsyncIterator[VerifyPool | None]:
    """A one-process verify pool for this loop (its socket belongs to the loop), or None."""
    if not on_pool:
        yield None
        return
    pool = await VerifyPool.start(CHAIN_ID, 1)
    try:
        yield pool
    finally:
        await pool.close()


def _answers(outcomes: list[SubmitOutcome | Resources]) -> list[str]:
    """Each answer's code, and its detail when OK (a refusal's detail is its check's business)."""
    return [
        "RESOURCES"
        if isinstance(o, Resources)
        else election_pb2.ResultCode.Name(o.code) + (f" {o.detail}" if o.code == election_pb2.OK else "")
        for o in outcomes
    ]


@pytest.mark.parametrize("on_pool", [True, False], ids=["pool", "in-loop"])
def test_submit_many_answers_in_order_as_submit_does(tmp_path: Path, on_pool: bool) -> None:
    election = Election.created(voters=VOTERS).opened()
    first, second = election.ballot(0, CHOICE), election.ballot(1, CHOICE)
    again = election.ballot(0, ((2,), ()))  # voter 0's second ballot: already voted once committed
    bad = bytearray(election.ballot(2, CHOICE))
    bad[-1] ^= 1  # the signature

    async def run() -> None:
        async with one_worker(on_pool) as pool:
            shell = intake_shell(tmp_path, election.chain.app, pool)
            batch = await shell.admission.submit_many(
                [first, b"\x0a\x03abc", bytes(bad), second, first, OVERSIZE]
            )
            alone = await shell.admission.submit(first)
            assert [o.tx_hash for o in batch if isinstance(o, SubmitOutcome)] == [
                tx_hash(raw) for raw in (first, b"\x0a\x03abc", bytes(bad), second, first, OVERSIZE)
            ]
            assert _answers(batch) == [
                "OK pending",
                "MALFORMED",
                "BAD_SIGNATURE",
                "OK pending",
                "OK already pending",
                "MALFORMED",
            ]
            assert f"exceeds {MAX_TX_BYTES}" in batch[-1].detail  # type: ignore[union-attr]
            assert (alone.code, alone.detail) == (election_pb2.OK, "already pending")
            assert len(shell.pending) == 2
            # the points of ballots checked on the pool wait for their block, and only theirs
            assert set(shell.pending.tally_points) == (
                {tx_hash(first), tx_hash(second)} if on_pool else set()
            )
            assert election.chain.one(first) == "OK"
            shell.pending.applied([tx_hash(first)])  # as committing its block does
            shell.pending.check()
            assert set(shell.pending.tally_points) <= {tx_hash(second)}
            assert _answers(await shell.admission.submit_many([again])) == ["ALREADY_VOTED"]
            assert set(shell.pending.tally_points) <= {
                tx_hash(second)
            }  # a refused ballot's points are not kept

    asyncio.run(run())


def test_a_full_mempool_answers_resources_in_place(tmp_path: Path) -> None:
    election = Election.created(voters=VOTERS).opened()
    ballots = [election.ballot(v, CHOICE) for v in range(3)]

    async def run() -> None:
        async with one_worker() as pool:
            shell = intake_shell(tmp_path, election.chain.app, pool, mempool_max_txs=2)
            outcomes = await shell.admission.submit_many(ballots)
            assert _answers(outcomes) == ["OK pending", "OK pending", "RESOURCES"]
            with pytest.raises(Resources, match="mempool full"):
                await shell.admission.submit(ballots[2])

    asyncio.run(run())


def test_a_ballot_forgotten_as_verified_loses_its_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past VERIFIED_CACHE_TXS the oldest verified hash goes, and its handed-over points with it:
    execute_block takes points only for a preverified transaction."""
    monkeypatch.setattr(pending_module, "VERIFIED_CACHE_TXS", 1)
    election = Election.created(voters=VOTERS).opened()
    first, second = election.ballot(0, CHOICE), election.ballot(1, CHOICE)

    async def run() -> None:
        async with one_worker() as pool:
            shell = intake_shell(tmp_path, election.chain.app, pool)
            assert _answers(await shell.admission.submit_many([first, second])) == ["OK pending"] * 2
            assert set(shell.pending.tally_points) == {tx_hash(second)}

    asyncio.run(run())
