"""A read-only view of the whole store as of one instant, for a backup (node/backup_file.py)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from node.ledger.layout import META_HEIGHT, META_LAST_SIGNED


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """One LevelDB snapshot of a store (`Store.snapshot`): read-only, raw records."""

    _snapshot: Any

    @property
    def height(self) -> int:
        raw = self._snapshot.get(META_HEIGHT)
        return 0 if raw is None else int(struct.unpack(">Q", raw)[0])

    def last_signed(self) -> bytes | None:
        value: bytes | None = self._snapshot.get(META_LAST_SIGNED)
        return value

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """Every record, key and value as stored, in key order (a restore copies them whole)."""
        yield from self._snapshot.iterator()
