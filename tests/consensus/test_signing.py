"""Signing bytes match votestore.encoding byte for byte; certificates verify with the set alone."""

from __future__ import annotations

import pytest

from node.consensus import (
    Certificate,
    ValidatorSet,
    VoteType,
    proposal_signing_bytes,
    verify_certificate,
    vote_signing_bytes,
)
from node.sim.keys import ed25519_keys, fake_keys
from votestore import encoding

BLOCK = bytes(range(32))

VOTES = [
    ("chain", VoteType.PREVOTE, 1, 0, 0, BLOCK),
    ("chain", VoteType.PRECOMMIT, 2**64 - 1, 2**31 - 1, 9, None),
    ("votestore-mainnet-ü", VoteType.PRECOMMIT, 7, 3, 2, BLOCK),
]


@pytest.mark.parametrize(("chain_id", "kind", "height", "round_", "validator", "block"), VOTES)
def test_vote_bytes_equal_encoding(
    chain_id: str, kind: VoteType, height: int, round_: int, validator: int, block: bytes | None
) -> None:
    ours = vote_signing_bytes(chain_id, kind, height, round_, validator, block)
    theirs = encoding.vote_signing_bytes(chain_id, int(kind), height, round_, validator, block or b"")
    assert ours == theirs


@pytest.mark.parametrize(("valid_round", "round_"), [(-1, 0), (0, 1), (5, 2**31 - 1)])
def test_proposal_bytes_equal_encoding(valid_round: int, round_: int) -> None:
    ours = proposal_signing_bytes("chain", 3, round_, valid_round, 1, BLOCK)
    assert ours == encoding.proposal_signing_bytes("chain", 3, round_, valid_round, 1, BLOCK)


def test_vote_layout_is_the_documented_one() -> None:
    raw = vote_signing_bytes("ab", VoteType.PREVOTE, 5, 2, 3, None)
    assert raw == b"votestore/v1/vote\x00" + b"\x00\x02ab" + bytes.fromhex(
        "01" + "0000000000000005" + "00000002" + "00000003" + "00"
    )


@pytest.mark.parametrize(
    ("bad", "args"),
    [
        ("short block id", ("c", VoteType.PREVOTE, 1, 0, 0, b"\x01")),
        ("empty chain id", ("", VoteType.PREVOTE, 1, 0, 0, None)),
        ("long chain id", ("x" * 65, VoteType.PREVOTE, 1, 0, 0, None)),
    ],
)
def test_vote_bytes_refuse_bad_fields(
    bad: str, args: tuple[str, VoteType, int, int, int, bytes | None]
) -> None:
    with pytest.raises(ValueError):
        vote_signing_bytes(*args)


def _certificate(signers: list[int], *, signer_keys: list[int] | None = None, round_: int = 0) -> Certificate:
    keys, _ = fake_keys(1, 4)
    sigs = []
    for signer, key in zip(signers, signer_keys or signers, strict=True):
        message = vote_signing_bytes("c", VoteType.PRECOMMIT, 4, round_, signer, BLOCK)
        sigs.append((signer, keys[key % 4].sign(message)))
    return Certificate(4, round_, BLOCK, tuple(sigs))


CERTIFICATES = {
    "quorum": (_certificate([0, 1, 2]), True),
    "all four": (_certificate([3, 1, 0, 2]), True),
    "too few": (_certificate([0, 1]), False),
    "repeated signer": (_certificate([0, 1, 1]), False),
    "non-validator": (_certificate([0, 1, 5]), False),
    "forged by another key": (_certificate([0, 1, 2], signer_keys=[0, 1, 3]), False),
    "signed for another round": (Certificate(4, 1, BLOCK, _certificate([0, 1, 2]).signatures), False),
    "nil block id": (Certificate(4, 0, b"", _certificate([0, 1, 2]).signatures), False),
}


@pytest.mark.parametrize(("certificate", "ok"), CERTIFICATES.values(), ids=CERTIFICATES.keys())
def test_verify_certificate(certificate: Certificate, ok: bool) -> None:
    _, verifier = fake_keys(1, 4)
    assert verify_certificate(certificate, "c", ValidatorSet(4), verifier) is ok


def test_certificate_with_ed25519() -> None:
    signers, verifier = ed25519_keys(3, 4)
    sigs = tuple(
        (v, signers[v].sign(vote_signing_bytes("c", VoteType.PRECOMMIT, 2, 1, v, BLOCK))) for v in (0, 2, 3)
    )
    assert verify_certificate(Certificate(2, 1, BLOCK, sigs), "c", ValidatorSet(4), verifier)
    assert not verify_certificate(Certificate(2, 1, BLOCK, sigs), "other-chain", ValidatorSet(4), verifier)


@pytest.mark.parametrize(
    ("size", "f", "quorum"), [(4, 1, 3), (5, 1, 4), (6, 1, 5), (7, 2, 5), (10, 3, 7), (100, 33, 67)]
)
def test_quorum_is_more_than_two_thirds(size: int, f: int, quorum: int) -> None:
    validators = ValidatorSet(size)
    assert (validators.f, validators.quorum, validators.skip) == (f, quorum, f + 1)
    assert 2 * validators.quorum - size >= f + 1  # two quorums share a correct validator


def test_proposer_is_round_robin_by_height_and_round() -> None:
    validators = ValidatorSet(4)
    assert [validators.proposer(1, r) for r in range(5)] == [1, 2, 3, 0, 1]
    assert [validators.proposer(h, 0) for h in range(1, 5)] == [1, 2, 3, 0]


def test_small_validator_sets_are_refused() -> None:
    with pytest.raises(ValueError):
        ValidatorSet(3)
