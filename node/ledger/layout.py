"""The store's record layout (node.ledger.store): one key prefix per record kind, the meta keys,
the format tag and the transaction index's entry — what Store writes and a snapshot of it
(node.ledger.snapshot) reads."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from proto.votestore.v1 import ledger_pb2

BLOCK: Final = b"b/"
CERT: Final = b"c/"
RESULTS: Final = b"r/"
APP_HASH_AT: Final = b"h/"
TX_INDEX: Final = b"t/"
TX_LOCATION: Final = struct.Struct(">QI")  # (height, position in the block)
EVIDENCE: Final = b"e/"
META_HEIGHT: Final = b"k/height"
META_GENESIS: Final = b"k/genesis"
META_LAST_SIGNED: Final = b"k/last_signed"
META_WATCH: Final = b"k/watch_before_signing"
META_CLEARED: Final = b"k/cleared_to_sign"
META_FORMAT: Final = b"k/format"
FORMAT: Final = b"state-journal/1"
"""State records tagged with their height, and a journal per height (node.ledger.state)."""
META_CHECKED: Final = b"k/checked"
"""Height (8 bytes, big-endian) and block id the last successful check of the chain reached."""


@dataclass(frozen=True, slots=True)
class TxLocation:
    height: int
    index: int


def height_key(height: int) -> bytes:
    return struct.pack(">Q", height)


def evidence_key(evidence: ledger_pb2.Evidence) -> bytes:
    a = evidence.vote_a
    return struct.pack(">QIBI", a.height, a.round, a.type, a.validator)
