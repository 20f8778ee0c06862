"""ristretto255 elements in libdecaf's internal form, for the hot paths of encryption, proof
checking and the encrypted tally.

libsodium (group.py) takes and returns only encoded points, so every addition there decodes and
encodes again (~13 us) and it has no fixed-point tables beyond g's and no double-scalar
multiplication. libdecaf (Mike Hamburg's, the Decaf/Ristretto author's; Debian package libdecaf0)
has all three: an addition on decoded points costs ~0.4 us, a multiple of a point with a
precomputed table ~14 us instead of ~39, and g^a P^b in variable time ~33 us instead of ~65. Its
ristretto255 encoding is RFC 9496's, the same bytes as libsodium's (tests/crypto check it, valid
and invalid encodings alike).

Secrets only meet constant-time calls (`Table.mult`, `base_mult`); `base_double_mult_vartime`
is for verifying, where every input is public.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Iterable, Sequence
from typing import Final

from votestore.crypto.group import IDENTITY, POINT_BYTES, L
from votestore.errors import DecodeError, MissingLibrary

LIBRARY_ENV: Final = "VOTESTORE_LIBDECAF"
_POINT_STRUCT_BYTES: Final = 256  # decaf_255_point_t: 4 field elements of 5 aligned limbs
INTERNAL_BYTES: Final = _POINT_STRUCT_BYTES
"""Bytes of an element in libdecaf's internal form (`Element.internal`)."""
_SCALAR_STRUCT_BYTES: Final = 32
_ALIGN: Final = 32
_SUCCESS: Final = -1  # DECAF_SUCCESS
TABLE_CACHE_ENTRIES: Final = 16


def _load() -> ctypes.CDLL:
    """libdecaf from $VOTESTORE_LIBDECAF, else the system's; MissingLibrary says how to install it."""
    candidates = [os.environ.get(LIBRARY_ENV), ctypes.util.find_library("decaf"), "libdecaf.so.0"]
    for name in candidates:
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise MissingLibrary(
        "votestore needs libdecaf (ristretto255): install the Debian/Ubuntu package libdecaf0 "
        f"(`apt-get install libdecaf0`, done by `make setup`) or set {LIBRARY_ENV} to libdecaf.so's path"
    )


_lib: Final = _load()
_P = ctypes.c_void_p
_lib.decaf_255_point_decode.argtypes = [_P, ctypes.c_char_p, ctypes.c_uint64]
_lib.decaf_255_point_decode.restype = ctypes.c_int
_lib.decaf_255_point_encode.argtypes = [_P, _P]
_lib.decaf_255_point_encode.restype = None
_lib.decaf_255_scalar_decode.argtypes = [_P, ctypes.c_char_p]
_lib.decaf_255_scalar_decode.restype = ctypes.c_int
for _name in ("decaf_255_point_add", "decaf_255_point_sub", "decaf_255_precomputed_scalarmul"):
    getattr(_lib, _name).argtypes = [_P, _P, _P]
    getattr(_lib, _name).restype = None
_lib.decaf_255_base_double_scalarmul_non_secret.argtypes = [_P, _P, _P, _P]
_lib.decaf_255_base_double_scalarmul_non_secret.restype = None
_lib.decaf_255_precompute.argtypes = [_P, _P]
_lib.decaf_255_precompute.restype = None
_TABLE_BYTES: Final = ctypes.c_size_t.in_dll(_lib, "decaf_255_sizeof_precomputed_s").value
_base_table = _P.in_dll(_lib, "decaf_255_precomputed_base").value
assert _base_table is not None, "libdecaf exports no base table"
_BASE_TABLE: Final[int] = _base_table


def _aligned(size: int) -> tuple[ctypes.Array[ctypes.c_char], int]:
    """A zeroed buffer and its first 32-byte-aligned address (libdecaf's field type asks for it)."""
    raw = ctypes.create_string_buffer(size + _ALIGN)
    address = ctypes.addressof(raw)
    return raw, address + (-address % _ALIGN)


class _Scalar:
    """A scalar in libdecaf's form; `k` is reduced mod L first."""

    __slots__ = ("_raw", "ptr")

    def __init__(self, k: int) -> None:
        self._raw, self.ptr = _aligned(_SCALAR_STRUCT_BYTES)
        rc = _lib.decaf_255_scalar_decode(self.ptr, (k % L).to_bytes(32, "little"))
        assert rc == _SUCCESS, "a reduced scalar always decodes"


class Element:
    """A group element, decoded once; `+`, `-` and `encode` need no further validation."""

    __slots__ = ("_raw", "ptr")

    def __init__(self) -> None:
        self._raw, self.ptr = _aligned(_POINT_STRUCT_BYTES)

    @classmethod
    def decode(cls, data: bytes, *, allow_identity: bool = False) -> Element:
        """The element a canonical encoding names, or DecodeError (same rules as group.decode_point)."""
        if len(data) != POINT_BYTES:
            raise DecodeError(f"point must be {POINT_BYTES} bytes, got {len(data)}")
        if data == IDENTITY and not allow_identity:
            raise DecodeError("identity point not allowed here")
        out = cls()
        if _lib.decaf_255_point_decode(out.ptr, data, 1) != _SUCCESS:
            raise DecodeError("not a canonical ristretto255 encoding")
        return out

    @classmethod
    def from_internal(cls, raw: bytes) -> Element:
        """The element whose `internal()` gave `raw`, with no check at all: only for bytes this
        program made itself from an element it had decoded (say, in a worker process of its own),
        since arbitrary bytes here would be a point off the group. Saves a decode's square root."""
        assert len(raw) == INTERNAL_BYTES, len(raw)
        out = cls()
        ctypes.memmove(out.ptr, raw, INTERNAL_BYTES)
        return out

    def internal(self) -> bytes:
        """The element in libdecaf's internal form, for `from_internal` in another process of
        this program (same library): ~0.9 us to take back instead of ~5 us to decode. Never for
        the wire or storage: it is not an encoding and nothing checks it."""
        return ctypes.string_at(self.ptr, INTERNAL_BYTES)

    def encode(self) -> bytes:
        out = ctypes.create_string_buffer(POINT_BYTES)
        _lib.decaf_255_point_encode(out, self.ptr)
        return out.raw

    def __add__(self, other: Element) -> Element:
        out = Element()
        _lib.decaf_255_point_add(out.ptr, self.ptr, other.ptr)
        return out

    def __sub__(self, other: Element) -> Element:
        out = Element()
        _lib.decaf_255_point_sub(out.ptr, self.ptr, other.ptr)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Element) and self.encode() == other.encode()

    def __hash__(self) -> int:
        return hash(self.encode())


def identity() -> Element:
    return Element.decode(IDENTITY, allow_identity=True)


_IDENTITY: Final = identity()


def sum_elements(elements: Iterable[Element]) -> Element:
    acc = _IDENTITY + _IDENTITY  # a fresh element, added to in place
    for e in elements:
        _lib.decaf_255_point_add(acc.ptr, acc.ptr, e.ptr)
    return acc


def sum_internal(blobs: Sequence[bytes], width: int) -> list[Element]:
    """For each i < width, the sum of the i-th element of every blob, a blob being `width`
    elements' `internal()` bytes back to back (so trusted as `from_internal` is). One aligned copy
    of all blobs, then additions only: no element object per point (~0.9 us each)."""
    size = width * INTERNAL_BYTES
    assert all(len(blob) == size for blob in blobs), (width, [len(blob) for blob in blobs])
    raw, base = _aligned(size * len(blobs))
    ctypes.memmove(base, b"".join(blobs), size * len(blobs))
    sums = [_IDENTITY + _IDENTITY for _ in range(width)]  # fresh elements, added to in place
    for at in range(base, base + size * len(blobs), INTERNAL_BYTES * width):
        for i, acc in enumerate(sums):
            _lib.decaf_255_point_add(acc.ptr, acc.ptr, at + i * INTERNAL_BYTES)
    del raw  # the buffer lives until the additions are done
    return sums


def _table_mult(table_ptr: int, k: int) -> Element:
    out, scalar = Element(), _Scalar(k)  # the scalar's buffer must outlive the call
    _lib.decaf_255_precomputed_scalarmul(out.ptr, table_ptr, scalar.ptr)
    return out


def base_mult(k: int) -> Element:
    """g^k, constant time."""
    return _table_mult(_BASE_TABLE, k)


def base_double_mult_vartime(s1: int, point: Element, s2: int) -> Element:
    """g^s1 * point^s2 in variable time: for checking proofs, never with a secret scalar."""
    out, scalar1, scalar2 = Element(), _Scalar(s1), _Scalar(s2)
    _lib.decaf_255_base_double_scalarmul_non_secret(out.ptr, scalar1.ptr, point.ptr, scalar2.ptr)
    return out


class Table:
    """Precomputed multiples of one fixed point (an election key): k-th powers in constant time
    at a third of a plain multiplication, for 9 KiB and one multiplication's work to build."""

    __slots__ = ("_raw", "ptr")

    def __init__(self, point: Element) -> None:
        self._raw, self.ptr = _aligned(_TABLE_BYTES)
        _lib.decaf_255_precompute(self.ptr, point.ptr)

    def mult(self, k: int) -> Element:
        return _table_mult(self.ptr, k)


@functools.lru_cache(maxsize=TABLE_CACHE_ENTRIES)
def table_for(key: bytes) -> Table:
    """The table of an encoded key, built once per process; raises DecodeError on a bad key."""
    return Table(Element.decode(key))
