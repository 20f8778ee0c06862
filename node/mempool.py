"""Pending transactions, checked against committed state, waiting for a block.

Bounded by count and bytes: when full, new transactions are refused (the caller answers
RESOURCE_EXHAUSTED) rather than evicting what was already acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, KeysView


class MempoolFull(Exception):
    """The mempool is at its count or byte bound."""


class Mempool:
    __slots__ = ("_bytes", "_txs", "max_bytes", "max_txs")

    def __init__(self, max_txs: int, max_bytes: int) -> None:
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self._txs: dict[bytes, bytes] = {}  # hash -> raw, in arrival order
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._txs

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def hashes(self) -> KeysView[bytes]:
        return self._txs.keys()

    def get(self, tx_hash: bytes) -> bytes | None:
        return self._txs.get(tx_hash)

    def add(self, tx_hash: bytes, raw: bytes) -> bool:
        """Keep `raw`; False if it was already here. Raises MempoolFull at the bound."""
        if tx_hash in self._txs:
            return False
        if len(self._txs) >= self.max_txs or self._bytes + len(raw) > self.max_bytes:
            raise MempoolFull(f"mempool full ({len(self._txs)} txs, {self._bytes} bytes)")
        self._txs[tx_hash] = raw
        self._bytes += len(raw)
        return True

    def reap(self, max_txs: int, max_bytes: int) -> list[bytes]:
        """The oldest transactions that fit a block, in arrival order (they stay until committed)."""
        chosen: list[bytes] = []
        total = 0
        for raw in self._txs.values():
            if len(chosen) >= max_txs or total + len(raw) > max_bytes:
                break
            chosen.append(raw)
            total += len(raw)
        return chosen

    def remove(self, hashes: Iterable[bytes]) -> None:
        for tx_hash in hashes:
            raw = self._txs.pop(tx_hash, None)
            if raw is not None:
                self._bytes -= len(raw)
        assert self._bytes >= 0
