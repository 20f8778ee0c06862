"""Point and scalar decoding, and statement framing."""

from __future__ import annotations

from typing import Any

import pytest

from votestore.crypto import group, transcript
from votestore.crypto.group import GENERATOR, IDENTITY, L
from votestore.errors import DecodeError

# A non-canonical encoding: the field element p = 2^255 - 19 itself (RFC 9496 test vectors).
_NON_CANONICAL = bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
# A negative field element (odd low bit) is not a canonical ristretto encoding.
_NEGATIVE = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")


@pytest.mark.parametrize(
    ("data", "allow_identity", "why"),
    [
        (b"", False, "32 bytes"),
        (GENERATOR[:31], False, "32 bytes"),
        (GENERATOR + b"\x00", False, "32 bytes"),
        (_NON_CANONICAL, False, "canonical"),
        (_NEGATIVE, False, "canonical"),
        (bytes([0xFF]) * 32, True, "canonical"),
        (GENERATOR[:31] + bytes([GENERATOR[31] | 0x80]), False, "canonical"),  # a second encoding of g
        (IDENTITY, False, "identity"),
    ],
)
def test_decode_point_refuses(data: bytes, allow_identity: bool, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        group.decode_point(data, allow_identity=allow_identity)


def test_decode_point_accepts_valid_and_allowed_identity() -> None:
    assert group.decode_point(GENERATOR) == GENERATOR
    assert group.decode_point(IDENTITY, allow_identity=True) == IDENTITY
    p = group.base_mult(12345)
    assert group.decode_point(p) == p


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ((0).to_bytes(32, "little"), True),
        ((L - 1).to_bytes(32, "little"), True),
        (L.to_bytes(32, "little"), False),
        ((L + 5).to_bytes(32, "little"), False),
        (bytes([0xFF]) * 32, False),
        (b"\x01" * 31, False),
    ],
)
def test_decode_scalar_is_canonical(data: bytes, ok: bool) -> None:
    if ok:
        assert group.encode_scalar(group.decode_scalar(data)) == data
    else:
        with pytest.raises(DecodeError):
            group.decode_scalar(data)


def test_group_laws_hold() -> None:
    a, b = 7, L - 3
    assert group.add(group.base_mult(a), group.base_mult(b)) == group.base_mult(a + b)
    assert group.mult(b, group.base_mult(a)) == group.base_mult(a * b)
    assert group.mult(L, GENERATOR) == IDENTITY
    assert group.sub(GENERATOR, GENERATOR) == IDENTITY
    assert group.reduce_scalar(L.to_bytes(64, "little")) == 0


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ((b"dom", b"ab", b"c"), (b"dom", b"a", b"bc")),  # part boundaries are framed
        ((b"dom", b"x"), (b"dox", b"x")),  # domains separate
        ((b"dom", 1, 2), (b"dom", 2, 1)),  # order matters
        ((b"dom", "id"), (b"dom", "id", b"")),  # an empty trailing part still counts
    ],
)
def test_distinct_statements_give_distinct_challenges(left: tuple[Any, ...], right: tuple[Any, ...]) -> None:
    assert transcript.challenge(left[0], *left[1:]) != transcript.challenge(right[0], *right[1:])
    assert transcript.challenge(left[0], *left[1:]) == transcript.challenge(left[0], *left[1:])
