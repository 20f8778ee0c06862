"""The key-value interface the election state machine reads through.

The state machine never touches LevelDB: it reads committed state through `StateReader` and hands
back a write set. The node supplies a reader over its app-state prefix; tests and the verifier use
`MemoryKV`, which also applies write sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

Writes = Mapping[bytes, bytes | None]
"""A block's changes to application state: a value to put, or None to delete."""


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


class MemoryKV:
    """Dict-backed application state for tests and the verifier's replay."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[bytes, bytes] | None = None) -> None:
        self._items: dict[bytes, bytes] = dict(items or {})

    def get(self, key: bytes) -> bytes | None:
        return self._items.get(key)

    def apply(self, writes: Writes) -> None:
        for key, value in writes.items():
            if value is None:
                self._items.pop(key, None)
            else:
                self._items[key] = value

    def snapshot(self) -> dict[bytes, bytes]:
        """A copy of every item, for comparing two replicas' states."""
        return dict(self._items)

    def __len__(self) -> int:
        return len(self._items)
