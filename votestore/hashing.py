"""Hashes and Merkle trees for block contents, results and receipts.

Leaves and inner nodes are hashed with distinct one-byte prefixes (RFC 6962) so that an inner
node can never be passed off as a leaf.
"""

from __future__ import annotations

import hashlib

HASH_BYTES = 32
_LEAF = b"\x00"
_INNER = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(item: bytes) -> bytes:
    return hashlib.sha256(_LEAF + item).digest()


def _inner(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_INNER + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly below n (RFC 6962's split point)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(items: list[bytes]) -> bytes:
    if not items:
        return EMPTY_ROOT
    return _root_of([leaf_hash(i) for i in items])


def _root_of(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _inner(_root_of(leaves[:k]), _root_of(leaves[k:]))


def merkle_path(items: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes from the leaf at `index` up to the root."""
    if not 0 <= index < len(items):
        raise IndexError(f"leaf {index} outside 0..{len(items) - 1}")
    return _path_of([leaf_hash(i) for i in items], index)


def merkle_paths(items: list[bytes]) -> list[list[bytes]]:
    """`merkle_path(items, i)` for every i at once: O(n log n) hashing instead of O(n^2)."""
    return _paths_of([leaf_hash(i) for i in items])


def _paths_of(leaves: list[bytes]) -> list[list[bytes]]:
    if len(leaves) <= 1:
        return [[] for _ in leaves]
    k = _split(len(leaves))
    left_root, right_root = _root_of(leaves[:k]), _root_of(leaves[k:])
    return [
        *([*path, right_root] for path in _paths_of(leaves[:k])),
        *([*path, left_root] for path in _paths_of(leaves[k:])),
    ]


def _path_of(leaves: list[bytes], index: int) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_path_of(leaves[:k], index), _root_of(leaves[k:])]
    return [*_path_of(leaves[k:], index - k), _root_of(leaves[:k])]


def verify_merkle_path(item: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """True iff `item` is leaf `index` of a tree of `size` leaves with this root."""
    if not 0 <= index < size:
        return False
    node, rest = _climb(leaf_hash(item), index, size, path)
    return rest == [] and node == root


def _climb(node: bytes, index: int, size: int, path: list[bytes]) -> tuple[bytes, list[bytes] | None]:
    if size == 1:
        return node, path
    k = _split(size)
    if index < k:
        sub, rest = _climb(node, index, k, path)
        if not rest:
            return b"", None
        return _inner(sub, rest[0]), rest[1:]
    sub, rest = _climb(node, index - k, size - k, path)
    if not rest:
        return b"", None
    return _inner(rest[0], sub), rest[1:]
