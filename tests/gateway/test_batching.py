"""The gateway's per-validator batching of submissions (SubmitTxBatch), over the fake validators on
real loopback gRPC: a cast to an idle validator goes at once, those arriving while a call is in
flight share the next one, each waiter gets its own answer and keeps its own deadline, and a
failed or garbled call answers every waiter Unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
import pytest

from gateway.answers import Accepted, Answer, Refused, Unreachable
from gateway.submit_batch import SUBMIT_BATCH_MAX_TXS
from gateway.validators import ValidatorPool
from proto.votestore.v1 import election_pb2
from tests.gateway.fake_node import CHAIN_ID, ELECTION, PROVIDER, FakeCluster, credential, start_fake_cluster
from votestore import txbuild
from votestore.channels import ValidatorDialer
from votestore.crypto.attestation import local_attester
from votestore.encoding import tx_hash


def _ballot(cluster: FakeCluster, voter: int) -> bytes:
    state = cluster.ledger.elections[ELECTION]
    key = state.election_key
    attest = local_attester(PROVIDER, CHAIN_ID, ELECTION)
    return txbuild.ballot(CHAIN_ID, ELECTION, state.definition, key, credential(voter), [[0], []], attest)


def run(scenario: Callable[[FakeCluster, ValidatorPool], Awaitable[None]]) -> None:
    async def main() -> None:
        cluster = await start_fake_cluster()
        pool = ValidatorPool(cluster.genesis, ValidatorDialer(None))
        try:
            await scenario(cluster, pool)
        finally:
            await pool.close()
            await cluster.stop()

    asyncio.run(main())


def test_the_first_cast_goes_at_once_and_the_next_share_a_call() -> None:
    async def scenario(cluster: FakeCluster, pool: ValidatorPool) -> None:
        ballots = [_ballot(cluster, voter) for voter in range(4)]
        outcomes = await asyncio.gather(*(pool.broadcast(raw, 5.0) for raw in ballots))
        assert [o.tracking_code for o in outcomes] == [tx_hash(raw) for raw in ballots]
        assert all(o.taken for o in outcomes)
        await pool.drain()
        assert [(node.batches, node.submitted) for node in cluster.nodes] == [(2, 4)] * 4

    run(scenario)


def test_each_waiter_gets_its_own_answer_in_order() -> None:
    async def scenario(cluster: FakeCluster, pool: ValidatorPool) -> None:
        good, other = _ballot(cluster, 0), _ballot(cluster, 1)
        broken = b"\x0a\x03abc"
        batcher = pool.batchers[2]
        answers = await asyncio.gather(*(batcher.submit(raw, 5.0) for raw in (good, broken, other)))
        assert answers[0] == Accepted(2, committed=False)
        assert isinstance(answers[1], Refused) and answers[1].code == election_pb2.MALFORMED
        assert answers[2] == Accepted(2, committed=False)
        assert cluster.nodes[2].batches == 2

    run(scenario)


def test_a_batch_is_sent_at_once_when_full() -> None:
    async def scenario(cluster: FakeCluster, pool: ValidatorPool) -> None:
        junk = [b"\x0a\x01" + i.to_bytes(2, "big") for i in range(1 + SUBMIT_BATCH_MAX_TXS + 2)]
        answers = await asyncio.gather(*(pool.batchers[0].submit(raw, 5.0) for raw in junk))
        assert all(isinstance(a, Refused) and a.code == election_pb2.MALFORMED for a in answers)
        assert cluster.nodes[0].batches == 3  # 1 at once, a full one without waiting, the last 2

    run(scenario)


@pytest.mark.parametrize(
    ("spoil", "status"),
    [("down", grpc.StatusCode.UNAVAILABLE), ("drop_last_answer", grpc.StatusCode.UNKNOWN)],
)
def test_a_failed_call_answers_every_waiter_unreachable(spoil: str, status: grpc.StatusCode) -> None:
    async def scenario(cluster: FakeCluster, pool: ValidatorPool) -> None:
        setattr(cluster.nodes[1].behaviour, spoil, True)
        ballots = [_ballot(cluster, voter) for voter in range(3)]
        answers: list[Answer] = await asyncio.gather(*(pool.batchers[1].submit(raw, 5.0) for raw in ballots))
        assert [(a.validator, a.status) for a in answers if isinstance(a, Unreachable)] == [(1, status)] * 3
        outcome = await pool.broadcast(_ballot(cluster, 3), 5.0)
        assert outcome.taken

    run(scenario)


def test_each_waiter_keeps_its_own_deadline() -> None:
    async def scenario(cluster: FakeCluster, pool: ValidatorPool) -> None:
        held = asyncio.Event()
        cluster.nodes[0].behaviour.hold_batches = held
        batcher = pool.batchers[0]
        first, patient, hasty = (
            asyncio.create_task(batcher.submit(_ballot(cluster, voter), timeout_s))
            for voter, timeout_s in ((0, 30.0), (1, 30.0), (2, 0.3))
        )
        # first goes alone; patient and hasty share the next call, which may run 30 s
        assert await hasty == Unreachable(0, grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        assert not first.done() and not patient.done()
        held.set()
        assert await first == await patient == Accepted(0, committed=False)
        assert cluster.nodes[0].batches == 2

    run(scenario)
