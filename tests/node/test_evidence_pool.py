"""The node's evidence pool (node/evidence.py) on a real store: a double vote is found whatever
the height it arrives for inside the window — against votes seen before, or against the
precommit a stored certificate holds — checked, bounded, kept across a restart and sent to peers.

Before the pool, the consensus core alone saw double votes, and only while their height ran: a
vote for a passed height was dropped unseen (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.evidence import MAX_SLOTS_PER_VALIDATOR_HEIGHT, EvidencePool, committed_evidence
from node.metrics import NodeMetrics
from proto.votestore.v1 import ledger_pb2, peer_pb2
from tests.node.store_kit import GENESIS, KEYS, grow, open_store
from votestore.encoding import vote_signing_bytes
from votestore.evidence import EVIDENCE_WINDOW

OTHER = b"\x07" * 32


def signed(
    kind: int, height: int, round_: int, block: bytes, validator: int, signer: int | None = None
) -> ledger_pb2.Vote:
    key = KEYS[validator if signer is None else signer]
    message = vote_signing_bytes(GENESIS.chain_id, kind, height, round_, validator, block)
    return ledger_pb2.Vote(
        type=kind,  # type: ignore[arg-type]
        height=height,
        round=round_,
        block_id=block,
        validator=validator,
        signature=key.sign(message).signature,
    )


class Net:
    def __init__(self) -> None:
        self.sent: list[peer_pb2.PeerMessage] = []


def pool_on(path: Path, blocks: int) -> tuple[EvidencePool, Net, NodeMetrics]:
    store = open_store(path)
    if blocks:
        grow(store, blocks)
    net = Net()
    metrics = NodeMetrics()
    pool = EvidencePool(
        genesis=GENESIS,
        store=store,
        committed=committed_evidence(store),
        metrics=metrics,
        send_all=net.sent.append,
    )
    return pool, net, metrics


def test_a_late_precommit_against_the_certificate_is_evidence(tmp_path: Path) -> None:
    pool, net, metrics = pool_on(tmp_path / "db", 30)
    store = pool._store
    certified = store.certificate(12)
    twin = signed(ledger_pb2.PRECOMMIT, 12, certified.round, b"", 1)  # nil, 18 heights after
    pool.heard(twin)
    assert pool.pending == 1
    [kept] = store.pending_evidence()
    assert {kept.vote_a.block_id, kept.vote_b.block_id} == {certified.block_id, b""}
    assert (kept.vote_a.validator, kept.vote_a.height, kept.vote_a.round) == (1, 12, certified.round)
    assert [m.WhichOneof("kind") for m in net.sent] == ["evidence"]
    assert metrics.evidence._value.get() == 1
    assert pool.for_block(31) == [kept]


def test_a_late_prevote_against_one_seen_before_is_evidence(tmp_path: Path) -> None:
    pool, net, _ = pool_on(tmp_path / "db", 3)
    honest = signed(ledger_pb2.PREVOTE, 4, 0, OTHER, 2)
    pool.heard(honest)
    grow(pool._store, 10)  # the height passes; the consensus core would drop a vote for it now
    pool.block_committed(13, [])
    pool.heard(honest)
    assert pool.pending == 0, "the same vote again is no evidence"
    pool.heard(signed(ledger_pb2.PREVOTE, 4, 0, b"", 2))
    assert pool.pending == 1 and len(net.sent) == 1


def test_forged_votes_take_no_slot_and_prove_nothing(tmp_path: Path) -> None:
    pool, net, metrics = pool_on(tmp_path / "db", 3)
    for round_ in range(2 * MAX_SLOTS_PER_VALIDATOR_HEIGHT):
        pool.heard(signed(ledger_pb2.PREVOTE, 3, round_, OTHER, 2, signer=0))  # not validator 2's key
    genuine = signed(ledger_pb2.PREVOTE, 3, 1, OTHER, 2)
    pool.heard(genuine)
    pool.heard(signed(ledger_pb2.PREVOTE, 3, 1, b"", 2, signer=0))  # forged conflict
    assert pool.pending == 0 and net.sent == []
    pool.heard(signed(ledger_pb2.PREVOTE, 3, 1, b"", 2))
    assert pool.pending == 1, "the forged votes did not crowd out the genuine one"
    refused = metrics.invalid_messages.labels(reason="bad_signature_late")._value.get()
    assert refused == 2 * MAX_SLOTS_PER_VALIDATOR_HEIGHT


def test_one_piece_per_validator_and_height_and_slots_are_bounded(tmp_path: Path) -> None:
    pool, net, _ = pool_on(tmp_path / "db", 3)
    for round_ in range(3 * MAX_SLOTS_PER_VALIDATOR_HEIGHT):
        pool.heard(signed(ledger_pb2.PREVOTE, 4, round_, OTHER, 3))
    assert len(pool._seen[(3, 4)]) == MAX_SLOTS_PER_VALIDATOR_HEIGHT
    for round_ in range(4):
        pool.heard(signed(ledger_pb2.PREVOTE, 4, round_, b"", 3))
    assert pool.pending == 1, "a second double vote at one height proves nothing new"
    assert len(net.sent) == 1


def test_outside_the_window_nothing_is_kept(tmp_path: Path) -> None:
    pool, _, _ = pool_on(tmp_path / "db", EVIDENCE_WINDOW + 5)
    old = pool._store.certificate(4)
    pool.heard(signed(ledger_pb2.PRECOMMIT, 4, old.round, b"", 1))
    assert pool.pending == 0
    assert pool._seen == {}


def test_evidence_from_a_peer_is_checked_kept_and_not_sent_on(tmp_path: Path) -> None:
    pool, net, metrics = pool_on(tmp_path / "db", 5)
    a, b = signed(ledger_pb2.PREVOTE, 5, 0, OTHER, 1), signed(ledger_pb2.PREVOTE, 5, 0, b"", 1)
    forged = ledger_pb2.Evidence(vote_a=a, vote_b=signed(ledger_pb2.PREVOTE, 5, 0, b"", 1, signer=2))
    pool.received(forged)
    assert pool.pending == 0
    assert metrics.invalid_messages.labels(reason="bad_evidence")._value.get() == 1
    pool.received(ledger_pb2.Evidence(vote_a=a, vote_b=b))
    assert pool.pending == 1 and net.sent == []
    pool.received(ledger_pb2.Evidence(vote_a=b, vote_b=a))  # another finder's copy
    assert pool.pending == 1
    assert metrics.ignored_messages.labels(reason="duplicate")._value.get() == 1
    assert metrics.invalid_messages.labels(reason="bad_evidence")._value.get() == 1


def test_committed_evidence_leaves_the_pool_and_is_not_offered_again(tmp_path: Path) -> None:
    pool, _, metrics = pool_on(tmp_path / "db", 5)
    mine = ledger_pb2.Evidence(
        vote_a=signed(ledger_pb2.PREVOTE, 5, 0, OTHER, 1), vote_b=signed(ledger_pb2.PREVOTE, 5, 0, b"", 1)
    )
    assert pool.found(mine)
    # Another builder committed the same double vote in another round: this pair is done too.
    theirs = ledger_pb2.Evidence(
        vote_a=signed(ledger_pb2.PRECOMMIT, 5, 2, OTHER, 1), vote_b=signed(ledger_pb2.PRECOMMIT, 5, 2, b"", 1)
    )
    grow(pool._store, 1)
    pool.block_committed(6, [theirs])
    assert pool.pending == 0 and pool._store.pending_evidence() == []
    assert pool.for_block(7) == []
    assert metrics.evidence_committed._value.get() == 1
    assert not pool.found(mine), "a committed pair is not kept again"


@pytest.mark.parametrize("restart_after", [0, 1])
def test_pending_evidence_survives_a_restart(tmp_path: Path, restart_after: int) -> None:
    pool, _, _ = pool_on(tmp_path / "db", 5)
    pool.heard(signed(ledger_pb2.PRECOMMIT, 5, 0, b"", 2))
    assert pool.pending == 1
    pool._store.close()
    again, net, _ = pool_on(tmp_path / "db", restart_after)
    assert again.pending == 1 and net.sent == []
    [message] = again.for_new_link()  # for each peer whose link comes up
    assert message.evidence.vote_b.height == 5
    assert [e.vote_a.height for e in again.for_block(6 + restart_after)] == [5]
