from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from votestore.hashing import (
    EMPTY_ROOT,
    leaf_hash,
    merkle_path,
    merkle_paths,
    merkle_root,
    verify_merkle_path,
)


@settings(max_examples=80, deadline=None)
@given(items=st.lists(st.binary(max_size=8), min_size=1, max_size=33), data=st.data())
def test_every_leaf_proves_and_wrong_leaves_do_not(items: list[bytes], data: st.DataObject) -> None:
    root = merkle_root(items)
    index = data.draw(st.integers(0, len(items) - 1))
    path = merkle_path(items, index)
    assert verify_merkle_path(items[index], index, len(items), path, root)
    assert not verify_merkle_path(items[index] + b"x", index, len(items), path, root)
    if len(items) > 1:
        assert not verify_merkle_path(items[index], index, len(items), path[:-1], root)
        assert not verify_merkle_path(items[index], index, len(items), [*path, path[0]], root)
    assert not verify_merkle_path(items[index], len(items), len(items), path, root)


def test_inner_node_is_not_a_leaf() -> None:
    items = [b"a", b"b"]
    assert merkle_root(items) != leaf_hash(leaf_hash(b"a") + leaf_hash(b"b"))
    assert merkle_root([]) == EMPTY_ROOT


def test_all_paths_at_once_equal_each_path() -> None:
    for size in [*range(41), 100, 257]:
        items = [size.to_bytes(2, "big") + i.to_bytes(2, "big") for i in range(size)]
        assert merkle_paths(items) == [merkle_path(items, i) for i in range(size)], size


def _rfc6962_root(items: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 defines it: split at the largest power of two below n."""
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    k = 1
    while k * 2 < len(items):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962_root(items[:k]) + _rfc6962_root(items[k:])).digest()


def _rfc6962_path(items: list[bytes], index: int) -> list[bytes]:
    """PATH as RFC 6962 section 2.1.1 defines it, leaf's sibling first."""
    if len(items) == 1:
        return []
    k = 1
    while k * 2 < len(items):
        k *= 2
    if index < k:
        return [*_rfc6962_path(items[:k], index), _rfc6962_root(items[k:])]
    return [*_rfc6962_path(items[k:], index - k), _rfc6962_root(items[:k])]


def test_root_and_paths_are_rfc6962s() -> None:
    for size in [*range(1, 70), 127, 128, 129, 160, 257]:
        items = [size.to_bytes(2, "big") + i.to_bytes(2, "big") for i in range(size)]
        assert merkle_root(items) == _rfc6962_root(items), size
        assert merkle_paths(items) == [_rfc6962_path(items, i) for i in range(size)], size
