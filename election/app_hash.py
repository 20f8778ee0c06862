"""The application hash: a hash chain over each block's state writes.

app_hash(h) = SHA-256(APP_HASH_DOMAIN || app_hash(h-1) || SHA-256(encoded sorted writes of h));
app_hash(0) = SHA-256(GENESIS_DOMAIN || chain_id). Cheap (proportional to the block's writes, not
to the whole state) and deterministic; two nodes that applied the same blocks to the same genesis
hold the same chain of hashes, and a replica whose state diverged diverges here too.
"""

from __future__ import annotations

import struct
from typing import Final

from election.kv import Writes
from votestore.hashing import HASH_BYTES, sha256

APP_HASH_DOMAIN: Final = b"votestore/v1/app_hash\x00"
GENESIS_DOMAIN: Final = b"votestore/v1/app_genesis\x00"
_DELETED: Final = b"\x00"
_PRESENT: Final = b"\x01"


def genesis_app_hash(chain_id: str) -> bytes:
    return sha256(GENESIS_DOMAIN + chain_id.encode())


def encode_writes(writes: Writes) -> bytes:
    """Length-prefixed (key, present flag, value) triples in key order; unambiguous."""
    out = bytearray()
    for key in sorted(writes):
        value = writes[key]
        out += struct.pack(">I", len(key)) + key
        if value is None:
            out += _DELETED
        else:
            out += _PRESENT + struct.pack(">I", len(value)) + value
    return bytes(out)


def writes_digest(writes: Writes) -> bytes:
    """The digest of a block's writes the app hash chain commits to (a store's journal of the
    height must hash to it)."""
    return sha256(encode_writes(writes))


def chained_app_hash(previous: bytes, digest: bytes) -> bytes:
    """app_hash(h) from app_hash(h-1) and the digest of h's writes."""
    assert len(previous) == HASH_BYTES, len(previous)
    return sha256(APP_HASH_DOMAIN + previous + digest)


def next_app_hash(previous: bytes, writes: Writes) -> bytes:
    return chained_app_hash(previous, writes_digest(writes))
