"""ristretto255 points and scalars, the one place that talks to rbcl (libsodium).

Points travel as their canonical 32-byte encodings and are validated when they come in from
outside (`decode_point`); scalars are plain Python ints reduced mod L inside, 32-byte
little-endian on the wire, and canonical (< L) when decoded so no proof has two encodings.
Scalar arithmetic in Python ints costs well under a microsecond; every point operation is one
libsodium call.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import rbcl

from votestore.errors import DecodeError


def _remove_rbcl_library_copy() -> None:
    """rbcl writes its bundled libsodium to a new temporary file at every import and never
    removes it: 2.8 MB left in the temporary directory by every process that imports this
    module (each validator start, each CLI call, each verify worker), enough to fill a disk
    over a test suite's or a site's life. The library is loaded (mapped) by then, so the file
    can go; only a file of that shape in the temporary directory is removed."""
    path = Path(str(getattr(sys.modules.get("rbcl._sodium"), "lib_path", "")))
    if path.parent == Path(tempfile.gettempdir()) and path.suffix == ".so" and path.name.startswith("tmp"):
        with contextlib.suppress(OSError):
            os.unlink(path)


_remove_rbcl_library_copy()

# Order of the ristretto255 group (RFC 9496).
L: Final = 2**252 + 27742317777372353535851937790883648493
POINT_BYTES: Final = 32
SCALAR_BYTES: Final = 32
WIDE_SCALAR_BYTES: Final = 64
IDENTITY: Final = bytes(POINT_BYTES)

# rbcl is untyped; these are its signatures.
_mult: Final[Callable[[bytes, bytes], bytes]] = rbcl.crypto_scalarmult_ristretto255
_mult_base: Final[Callable[[bytes], bytes]] = rbcl.crypto_scalarmult_ristretto255_base
_add: Final[Callable[[bytes, bytes], bytes]] = rbcl.crypto_core_ristretto255_add
_sub: Final[Callable[[bytes, bytes], bytes]] = rbcl.crypto_core_ristretto255_sub
_is_valid: Final[Callable[[bytes], bool]] = rbcl.crypto_core_ristretto255_is_valid_point


def encode_scalar(k: int) -> bytes:
    assert 0 <= k < L, "scalar not reduced"
    return k.to_bytes(SCALAR_BYTES, "little")


def decode_scalar(b: bytes) -> int:
    """A canonical scalar (< L): a non-canonical one would make proofs malleable."""
    if len(b) != SCALAR_BYTES:
        raise DecodeError(f"scalar must be {SCALAR_BYTES} bytes, got {len(b)}")
    k = int.from_bytes(b, "little")
    if k >= L:
        raise DecodeError("scalar not reduced mod L")
    return k


def reduce_scalar(b: bytes) -> int:
    """Reduce a wide (64-byte) uniform string to a scalar with negligible bias."""
    if len(b) != WIDE_SCALAR_BYTES:
        raise ValueError(f"wide scalar must be {WIDE_SCALAR_BYTES} bytes, got {len(b)}")
    return int.from_bytes(b, "little") % L


def random_scalar() -> int:
    """A uniform non-zero scalar from libsodium's randomness."""
    k = int.from_bytes(rbcl.crypto_core_ristretto255_scalar_random(), "little")
    assert 0 < k < L
    return k


def decode_point(b: bytes, *, allow_identity: bool = False) -> bytes:
    """The canonical encoding of a valid group element, or DecodeError.

    The identity is refused unless allowed: as a key, commitment or fresh ciphertext part it
    means a zero secret or nonce (a ballot with alpha = identity shows its vote in clear).
    """
    if len(b) != POINT_BYTES:
        raise DecodeError(f"point must be {POINT_BYTES} bytes, got {len(b)}")
    # RFC 9496 reads 256 bits and refuses values >= p, so the top bit must be clear; the libsodium
    # in rbcl 1.1.2 ignores that bit, which would give every point a second encoding.
    if b[-1] & 0x80 or not _is_valid(b):
        raise DecodeError("not a canonical ristretto255 encoding")
    if b == IDENTITY and not allow_identity:
        raise DecodeError("identity point not allowed here")
    return bytes(b)


def base_mult(k: int) -> bytes:
    """g^k (written additively: k*G)."""
    k %= L
    if k == 0:
        return IDENTITY
    return _mult_base(encode_scalar(k))


def mult(k: int, p: bytes) -> bytes:
    """p^k for a point already validated by decode_point (or produced here)."""
    k %= L
    if k == 0 or p == IDENTITY:
        return IDENTITY
    return _mult(encode_scalar(k), p)


def add(p: bytes, q: bytes) -> bytes:
    """p * q (group operation). Inputs must be validated: libsodium returns zeros on a bad one."""
    return _add(p, q)


def sub(p: bytes, q: bytes) -> bytes:
    return _sub(p, q)


def add_all(points: list[bytes]) -> bytes:
    """The sum of the points: len - 1 additions (the identity for none)."""
    if not points:
        return IDENTITY
    acc = points[0]
    for p in points[1:]:
        acc = _add(acc, p)
    return acc


GENERATOR: Final = base_mult(1)
