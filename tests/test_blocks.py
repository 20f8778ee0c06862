"""Equivocation evidence in a proposed block must prove itself with the genesis keys alone."""

from __future__ import annotations

from collections.abc import Callable

import nacl.signing
import pytest

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import BlockInvalid, check_evidence
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
