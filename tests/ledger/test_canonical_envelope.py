"""Issue 18, attack 4: the tracking code (tx hash) is a function of what the voter signed.

A relay (gateway, validator, anyone on the path) that re-encodes a voter's `SignedTx` without
touching the signed body — an unknown field appended, a length written as a longer varint, fields
reordered, a field repeated — must not get it counted under another hash. Every such envelope is
refused MALFORMED at intake (`check_tx`) and in execution, and the voter's own bytes count.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import code
from votestore.encoding import tx_hash


def _varint(n: int, extra: int = 0) -> bytes:
    """n as a protobuf varint, padded with `extra` redundant continuation bytes."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    if extra:
        out[-1] |= 0x80
        out.extend([0x80] * (extra - 1) + [0x00])
    return bytes(out)


def _field(number: int, value: bytes, length_padding: int = 0) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value), length_padding) + value


def _parts(raw: bytes) -> election_pb2.SignedTx:
    return election_pb2.SignedTx.FromString(raw)


def _signed(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """What the envelope carries, as a parser reads it: body, signer, signature."""
    env = _parts(raw)
    return env.body, env.signer, env.signature


def _unknown_field(raw: bytes) -> bytes:
    return raw + _field(15, b"relay")


def _long_varint(raw: bytes) -> bytes:
    env = _parts(raw)
    return _field(1, env.body, length_padding=2) + _field(2, env.signer) + _field(3, env.signature)


def _reordered(raw: bytes) -> bytes:
    env = _parts(raw)
    return _field(3, env.signature) + _field(2, env.signer) + _field(1, env.body)


def _repeated_field(raw: bytes) -> bytes:
    return _field(2, bytes(32)) + raw  # the later signer wins when parsed: same message


MALLEATIONS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("unknown field", _unknown_field),
    ("non-canonical varint", _long_varint),
    ("reordered fields", _reordered),
    ("repeated field", _repeated_field),
]


@pytest.mark.parametrize(("name", "malleate"), MALLEATIONS, ids=[m[0] for m in MALLEATIONS])
def test_malleated_envelope_is_refused_and_the_voters_own_bytes_count(
    name: str, malleate: Callable[[bytes], bytes]
) -> None:
    election = Election.created(voters=2).opened()
    own = election.ballot(0, [[1], [0]])
    relayed = malleate(own)
    assert relayed != own
    assert _signed(relayed) == _signed(own), name  # the same signed transaction, other bytes
    assert code(election.chain.app.check_tx(relayed)) == "MALFORMED", name
    results = election.chain.block([relayed, own])
    assert [code(r) for r in results] == ["MALFORMED", "OK"], name
    assert "canonical" in results[0].detail
    assert election.chain.app.voted_tx(ELECTION, _parts(own).signer) == tx_hash(own)
