"""A block's double-vote evidence: each entry proven, inside the window, each (validator, height)
committed once — the rule every validator and the verifier apply (votestore/evidence.py)."""

from __future__ import annotations

import nacl.signing
import pytest

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import BlockInvalid
from votestore.encoding import vote_signing_bytes
from votestore.evidence import (
    EVIDENCE_WINDOW,
    MAX_EVIDENCE_PER_BLOCK,
    CommittedEvidence,
    check_block_evidence,
)

CHAIN = "test-chain"
KEYS = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(4)]
PUBLIC = [bytes(k.verify_key) for k in KEYS]
A, B = b"\x01" * 32, b"\x02" * 32


def vote(validator: int, block: bytes, height: int, round_: int = 0) -> ledger_pb2.Vote:
    message = vote_signing_bytes(CHAIN, ledger_pb2.PREVOTE, height, round_, validator, block)
    return ledger_pb2.Vote(
        type=ledger_pb2.PREVOTE,
        height=height,
        round=round_,
        block_id=block,
        validator=validator,
        signature=KEYS[validator].sign(message).signature,
    )


def double(validator: int, height: int, round_: int = 0) -> ledger_pb2.Evidence:
    return ledger_pb2.Evidence(
        vote_a=vote(validator, A, height, round_), vote_b=vote(validator, B, height, round_)
    )


def test_double_votes_inside_the_window_pass() -> None:
    block = 150
    evidence = [double(1, block - EVIDENCE_WINDOW), double(2, block), double(1, block - 1)]
    keys = check_block_evidence(CHAIN, PUBLIC, block, evidence, CommittedEvidence())
    assert keys == [(1, block - EVIDENCE_WINDOW), (2, block), (1, block - 1)]


@pytest.mark.parametrize(
    ("evidence", "why"),
    [
        ([double(1, 150 - EVIDENCE_WINDOW - 1)], "outside the 100-height window"),
        ([double(1, 151)], "outside"),
        ([double(1, 140), double(1, 140, round_=3)], "validator 1 at height 140 committed twice"),
        (
            [double(1, 140), ledger_pb2.Evidence(vote_a=vote(1, B, 140), vote_b=vote(1, A, 140))],
            "committed twice",
        ),
        (
            [double(1, 140), ledger_pb2.Evidence(vote_a=vote(2, A, 140), vote_b=vote(2, A, 140))],
            "do not conflict",
        ),
        ([double(1, 140)] * (MAX_EVIDENCE_PER_BLOCK + 1), "at most 64"),
    ],
)
def test_a_block_s_evidence_outside_the_rules_is_refused(
    evidence: list[ledger_pb2.Evidence], why: str
) -> None:
    with pytest.raises(BlockInvalid, match=why):
        check_block_evidence(CHAIN, PUBLIC, 150, evidence, CommittedEvidence())


def test_a_double_vote_committed_once_is_refused_in_a_later_block() -> None:
    committed = CommittedEvidence()
    committed.add_block(41, [double(1, 40)])
    with pytest.raises(BlockInvalid, match="committed twice"):
        check_block_evidence(CHAIN, PUBLIC, 42, [double(1, 40, round_=2)], committed)
    assert check_block_evidence(CHAIN, PUBLIC, 42, [double(2, 40)], committed) == [(2, 40)]


def test_committed_pairs_are_forgotten_once_out_of_the_window() -> None:
    committed = CommittedEvidence()
    committed.add_block(41, [double(1, 40)])
    committed.add_block(40 + EVIDENCE_WINDOW - 1, [])
    assert (1, 40) in committed
    committed.add_block(40 + EVIDENCE_WINDOW, [])
    assert (1, 40) not in committed, "block 141 may not carry height 40: nothing to remember"
    assert len(committed) == 0


def test_garbage_in_a_certified_block_never_raises_in_the_record() -> None:
    """A certified block is not judged again when committed: its evidence is only read."""
    committed = CommittedEvidence()
    committed.add_block(5, [ledger_pb2.Evidence(), ledger_pb2.Evidence(vote_a=ledger_pb2.Vote(height=2**63))])
    assert len(committed) == 0
