"""The layout of application state: one place that names every key.

Election ids are restricted to `[A-Za-z0-9._-]` (see `definition.py`), so `/` separates fields
unambiguously. Keys are relative to the node's app-state prefix.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

ELECTIONS: Final = b"i/elections"
"""Every election id, in creation order."""
OPEN_ELECTIONS: Final = b"i/open"
"""Ids of elections in phase OPEN, so a block's automatic close never scans all elections."""
META_HEIGHT: Final = b"m/height"
META_TIME: Final = b"m/time_ms"
META_APP_HASH: Final = b"m/app_hash"
META_PREFIX: Final = b"m/"
"""Bookkeeping written alongside a block's writes but not hashed into the app hash."""


def _scoped(tag: bytes, election_id: str, tail: bytes = b"") -> bytes:
    return tag + b"/" + election_id.encode() + (b"/" + tail if tail else b"")


def election(election_id: str) -> bytes:
    """ElectionState (definition, phase, roll size, turnout, running tally, result)."""
    return _scoped(b"e", election_id)


def roll_entry(election_id: str, credential_key: bytes) -> bytes:
    """The voter's roll group, as its position in the election's turnout list (`encode_group`)."""
    return _scoped(b"r", election_id, credential_key)


def encode_group(position: int) -> bytes:
    assert 0 <= position < 1 << 16, position
    return struct.pack(">H", position)


def decode_group(raw: bytes) -> int:
    return int(struct.unpack(">H", raw)[0])


def voted(election_id: str, credential_key: bytes) -> bytes:
    """The hash of the voter's counted ballot transaction."""
    return _scoped(b"v", election_id, credential_key)


def audited(election_id: str, credential_key: bytes) -> bytes:
    """The ballot digests (`attestation.ballot_digest`, 32 bytes each, in order) of the voter's
    published audited ballots: at most `auditing.MAX_AUDITS_PER_VOTER`."""
    return _scoped(b"a", election_id, credential_key)


def _indexed(tag: bytes, election_id: str, trustee: int) -> bytes:
    assert trustee >= 1, trustee
    return _scoped(tag, election_id, struct.pack(">I", trustee))


def deal(election_id: str, dealer: int) -> bytes:
    """The dealer's DkgDeal (serialised)."""
    return _indexed(b"d", election_id, dealer)


def disqualified(election_id: str, dealer: int) -> bytes:
    """Present once a complaint against the dealer was proven; holds the complainer's index."""
    return _indexed(b"x", election_id, dealer)


def verification_key(election_id: str, trustee: int) -> bytes:
    """g^{s_i} for a qualified trustee, fixed at open."""
    return _indexed(b"k", election_id, trustee)


def decryption_share(election_id: str, trustee: int) -> bytes:
    """The trustee's verified DecryptionShare (serialised)."""
    return _indexed(b"s", election_id, trustee)


def encode_ids(ids: Sequence[str]) -> bytes:
    out = bytearray()
    for ident in ids:
        raw = ident.encode()
        assert 0 < len(raw) < 256, ident
        out += bytes([len(raw)]) + raw
    return bytes(out)


def decode_ids(raw: bytes | None) -> list[str]:
    ids: list[str] = []
    at = 0
    data = raw or b""
    while at < len(data):
        size = data[at]
        ids.append(data[at + 1 : at + 1 + size].decode())
        at += 1 + size
    assert at == len(data), "truncated id list"
    return ids


_KINDS: Final = {
    b"e": "election record",
    b"r": "roll entry",
    b"v": "vote record",
    b"a": "audited ballots",
    b"d": "key-generation deal",
    b"x": "disqualification",
    b"k": "verification key",
    b"s": "decryption share",
}


def describe(key: bytes) -> str:
    """Name a state record for a person: its keyspace, election and voter or trustee (a voter
    by the first 8 bytes of the credential key, in hex), e.g. `roll entry (election 'e1', voter
    3f2a…)`. Total on any bytes, since it names records read from a damaged store."""
    if key.startswith((b"i/", META_PREFIX)):
        return f"index record {key.decode(errors='replace')!r}"
    kind = _KINDS.get(key[:1])
    if kind is None or key[1:2] != b"/":
        return f"unknown record {key[:48].hex()}"
    election_id, _, tail = key[2:].partition(b"/")
    named = f"election {election_id.decode(errors='replace')!r}"
    if not tail:
        return f"{kind} ({named})"
    if key[:1] in (b"r", b"v", b"a"):
        return f"{kind} ({named}, voter {tail[:8].hex()}…)"
    if len(tail) == 4:
        return f"{kind} ({named}, trustee {struct.unpack('>I', tail)[0]})"
    return f"{kind} ({named}, {tail[:16].hex()})"
