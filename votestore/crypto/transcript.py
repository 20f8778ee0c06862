"""Unambiguous hashing of statements for Fiat-Shamir challenges and key derivation.

Every part is length-prefixed and the whole is prefixed by a domain string, so no two different
statements (or a statement and a key-derivation input) hash the same bytes. Challenges hash the
whole statement - context, election id, keys, ciphertexts and all commitments - never the
commitments alone (Bernhard, Pereira, Warinschi 2012: the weak form broke Helios).
"""

from __future__ import annotations

import hashlib

from votestore.crypto.group import L

Part = bytes | str | int
_INT_BYTES = 8


def frame(domain: bytes, *parts: Part) -> bytes:
    """The framed statement itself: what a signature over a statement of several parts covers."""
    return _frame(domain, parts)


def _frame(domain: bytes, parts: tuple[Part, ...]) -> bytes:
    out = [len(domain).to_bytes(_INT_BYTES, "big"), domain]
    for p in parts:
        if isinstance(p, int):
            assert 0 <= p < 1 << (8 * _INT_BYTES), "integer part out of range"
            data = p.to_bytes(_INT_BYTES, "big")
        elif isinstance(p, str):
            data = p.encode("utf-8")
        else:
            data = p
        out.append(len(data).to_bytes(_INT_BYTES, "big"))
        out.append(data)
    return b"".join(out)


def challenge(domain: bytes, *parts: Part) -> int:
    """A scalar challenge: SHA-512 of the framed statement, reduced mod L."""
    return int.from_bytes(hashlib.sha512(_frame(domain, parts)).digest(), "little") % L


def derive_key(domain: bytes, *parts: Part) -> bytes:
    """A 32-byte symmetric key from a framed input (SHA-256)."""
    return hashlib.sha256(_frame(domain, parts)).digest()
