"""Equivocation evidence and readiness votes in a proposed block must prove themselves with the
genesis keys alone."""

from __future__ import annotations

from collections.abc import Callable

import nacl.signing
import pytest

from node.readiness import ReadyVotes
from proto.votestore.v1 import ledger_pb2
from votestore.blocks import BlockInvalid, check_evidence, check_ready, ready_root
from votestore.encoding import vote_signing_bytes

CHAIN = "test-chain"
KEYS = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(4)]
PUBLIC = [bytes(k.verify_key) for k in KEYS]


def _vote(
    validator: int, block: bytes, *, height: int = 5, round_: int = 0, signer: int | None = None
) -> ledger_pb2.Vote:
    vote = ledger_pb2.Vote(
        type=ledger_pb2.PREVOTE, height=height, round=round_, block_id=block, validator=validator
    )
    key = KEYS[validator if signer is None else signer]
    vote.signature = key.sign(
        vote_signing_bytes(CHAIN, vote.type, height, round_, validator, block)
    ).signature
    return vote


def test_true_equivocation_passes() -> None:
    check_evidence(
        CHAIN, PUBLIC, ledger_pb2.Evidence(vote_a=_vote(2, b"\x01" * 32), vote_b=_vote(2, b"\x02" * 32))
    )
    check_evidence(CHAIN, PUBLIC, ledger_pb2.Evidence(vote_a=_vote(2, b"\x01" * 32), vote_b=_vote(2, b"")))


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: (_vote(2, b"\x01" * 32), _vote(2, b"\x01" * 32)), "do not conflict"),
        (lambda: (_vote(2, b"\x01" * 32), _vote(3, b"\x02" * 32)), "not for one validator"),
        (lambda: (_vote(2, b"\x01" * 32), _vote(2, b"\x02" * 32, round_=1)), "not for one validator"),
        (lambda: (_vote(2, b"\x01" * 32), _vote(2, b"\x02" * 32, signer=1)), "not validly signed"),
        (
            lambda: (
                ledger_pb2.Vote(type=ledger_pb2.PREVOTE, height=5, block_id=b"\x01" * 31, validator=2),
                _vote(2, b"\x02" * 32),
            ),
            "malformed",
        ),
    ],
)
def test_false_evidence_is_refused(
    make: Callable[[], tuple[ledger_pb2.Vote, ledger_pb2.Vote]], why: str
) -> None:
    a, b = make()
    with pytest.raises(BlockInvalid, match=why):
        check_evidence(CHAIN, PUBLIC, ledger_pb2.Evidence(vote_a=a, vote_b=b))


def test_readiness_votes_of_recent_heights_pass() -> None:
    ready = [_vote(2, b"", height=6), _vote(3, b"\x01" * 32, height=5)]
    assert check_ready(CHAIN, PUBLIC, 7, ready) == {2, 3}
    assert check_ready(CHAIN, PUBLIC, 7, []) == frozenset()
    assert ready_root([]) == b"", "a block without readiness votes hashes as before the field"
    assert len(ready_root(ready)) == 32


@pytest.mark.parametrize(
    ("ready", "why"),
    [
        ([_vote(2, b"", height=6), _vote(2, b"", height=5)], "two readiness votes"),
        ([_vote(2, b"", height=7)], "height 7 in block 7"),
        ([_vote(2, b"", height=4)], "height 4 in block 7"),
        ([_vote(2, b"", height=6, signer=1)], "not validly signed"),
        ([ledger_pb2.Vote(type=ledger_pb2.PREVOTE, height=6, validator=9)], "not in genesis"),
    ],
)
def test_false_readiness_is_refused(ready: list[ledger_pb2.Vote], why: str) -> None:
    """A builder cannot vouch for a validator that did not sign, nor replay an old vote."""
    with pytest.raises(BlockInvalid, match=why):
        check_ready(CHAIN, PUBLIC, 7, ready)


def test_ready_votes_keep_only_checked_votes_of_skipped_validators() -> None:
    votes = ReadyVotes(CHAIN, PUBLIC)
    votes.heard(_vote(1, b"", height=6), skipped=frozenset({2}))  # not skipped: ignored
    votes.heard(_vote(2, b"", height=6, signer=1), skipped=frozenset({2}))  # forged: ignored
    assert votes.for_block(7, frozenset({1, 2})) == []
    votes.heard(_vote(2, b"", height=5), skipped=frozenset({2}))
    votes.heard(_vote(2, b"", height=6), skipped=frozenset({2}))
    votes.heard(_vote(2, b"", height=7), skipped=frozenset({2}))
    assert [v.height for v in votes.for_block(7, frozenset({2}))] == [6]
    assert votes.for_block(10, frozenset({2})) == [], "too old for block 10"
    assert votes.for_block(7, frozenset()) == [], "readmitted meanwhile: dropped"
