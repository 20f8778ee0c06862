"""The socket-fed verify pool: answers as `verify_tx_handover` gives them, in order, on real worker
processes; a check that raises fails its batch only; a worker that dies fails what waits on it and
the intake goes on checking in the loop; closing stops every worker."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from election.stateless import ElectionParams, verify_tx_handover
from node.verify_pool import Answer, CheckFailed, PoolBroken, VerifyPool
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import CHAIN_ID
from tests.node.shell_kit import intake_shell
from votestore.crypto.decaf import INTERNAL_BYTES, Element

CHOICE = ((1,), (0,))
WAIT_S = 60.0
"""Bound on any one wait here: worker processes are spawned, which imports the checks anew."""


def _ballots(count: int) -> tuple[Election, ElectionParams, list[bytes]]:
    election = Election.created(voters=count).opened()
    state = election.chain.app.election_state(ELECTION)
    assert state is not None
    return election, ElectionParams.of(state), [election.ballot(v, CHOICE) for v in range(count)]


def _comparable(answers: list[Answer]) -> list[tuple[election_pb2.TxResult, list[bytes]]]:
    """Results, and the points as encodings: the internal form's padding bytes are whatever
    libdecaf's stack held, so two processes' copies of one point differ there."""
    return [
        (
            result,
            [
                Element.from_internal(points[at : at + INTERNAL_BYTES]).encode()
                for at in range(0, len(points), INTERNAL_BYTES)
            ],
        )
        for result, points in answers
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_answers_match_the_checks_in_this_process_in_order() -> None:
    _, params, ballots = _ballots(3)
    bad = bytearray(ballots[1])
    bad[-1] ^= 1  # the signature
    items = [(ballots[0], params), (bytes(bad), params), (b"\x0a\x03abc", params), (ballots[2], None)]
    expected = [verify_tx_handover(CHAIN_ID, raw, p) for raw, p in items]
    assert [r.code for r, _ in expected] == [
        election_pb2.OK,
        election_pb2.BAD_SIGNATURE,
        election_pb2.MALFORMED,
        election_pb2.UNKNOWN_ELECTION,
    ]

    async def run() -> None:
        pool = await VerifyPool.start(CHAIN_ID, 2)
        try:
            # more batches than workers: each worker answers its own in the order sent
            batches = [pool.submit(items[at : at + 2]) for at in range(0, len(items), 2)] + [
                pool.submit(items)
            ]
            answers = await asyncio.wait_for(asyncio.gather(*batches), WAIT_S)
        finally:
            await pool.close()
        assert [_comparable(a) for a in answers] == [
            _comparable(expected[:2]),
            _comparable(expected[2:]),
            _comparable(expected),
        ]
        assert _comparable(answers[0])[0][1], "an OK ballot's points come with it"

    asyncio.run(run())


def test_a_check_that_raises_fails_its_batch_and_the_worker_goes_on() -> None:
    _, params, ballots = _ballots(1)

    async def run() -> None:
        pool = await VerifyPool.start(CHAIN_ID, 1)
        try:
            broken = pool.submit([(ballots[0], "not parameters")])  # type: ignore[list-item]
            with pytest.raises(CheckFailed, match="AttributeError"):
                await asyncio.wait_for(broken, WAIT_S)
            ((result, _),) = await asyncio.wait_for(pool.submit([(ballots[0], params)]), WAIT_S)
            assert result.code == election_pb2.OK
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_dead_worker_fails_its_waiters_and_intake_checks_in_the_loop(tmp_path: Path) -> None:
    election, params, ballots = _ballots(3)

    async def run() -> None:
        pool = await VerifyPool.start(CHAIN_ID, 1)
        try:
            ((result, _),) = await asyncio.wait_for(pool.submit([(ballots[0], params)]), WAIT_S)
            assert result.code == election_pb2.OK
            (pid,) = pool.pids
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(PoolBroken):
                await asyncio.wait_for(pool.submit([(ballots[1], params)]), WAIT_S)
            with pytest.raises(PoolBroken):
                pool.submit([(ballots[1], params)])
            shell = intake_shell(tmp_path, election.chain.app, pool)
            try:
                outcomes = await asyncio.wait_for(shell.admission.submit_many(ballots[1:]), WAIT_S)
            finally:
                shell.store.close()
            assert [(o.code, o.detail) for o in outcomes] == [(election_pb2.OK, "pending")] * 2  # type: ignore[union-attr]
            assert not shell.pending.tally_points, "checked in the loop: no handed-over points"
        finally:
            await pool.close()

    asyncio.run(run())


def test_close_stops_every_worker_even_one_at_work(capfd: pytest.CaptureFixture[str]) -> None:
    _, params, ballots = _ballots(1)

    async def run() -> list[int]:
        pool = await VerifyPool.start(CHAIN_ID, 2)
        pids = pool.pids
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        await asyncio.wait_for(pool.submit([(ballots[0], params)]), WAIT_S)  # both started, one warm
        unanswered = pool.submit([(ballots[0], params)] * 20)  # still running when its socket closes
        await pool.close()
        with pytest.raises(PoolBroken):
            await unanswered
        with pytest.raises(PoolBroken):
            pool.submit([])
        return pids

    pids = asyncio.run(run())
    assert not any(_alive(pid) for pid in pids)
    assert "Traceback" not in capfd.readouterr().err, "a worker stopped mid-batch says nothing"
