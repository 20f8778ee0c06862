"""Bounded discrete log by baby-step giant-step: find m in [0, max_value] with g^m = target.

The baby-step table (sqrt(max_value) points, each one addition and one encoding) is the costly
part, so it is cached per size; a count of 1,000,000 ballots needs a 1,024-entry table and at most
977 giant steps per choice.
"""

from __future__ import annotations

import functools
import math
from typing import Final

from votestore.crypto import decaf
from votestore.crypto.errors import DecryptionFailed

MAX_DLOG_VALUE: Final = 1 << 36  # a table of 2^18 points, 8 MiB
TABLE_CACHE_ENTRIES: Final = 4
MIN_TABLE_ENTRIES: Final = 16


@functools.lru_cache(maxsize=TABLE_CACHE_ENTRIES)
def _baby_steps(size: int) -> dict[bytes, int]:
    table: dict[bytes, int] = {}
    generator = decaf.base_mult(1)
    point = decaf.identity()
    for j in range(size):
        table[point.encode()] = j
        point = point + generator
    assert len(table) == size
    return table


def _table_size(max_value: int) -> int:
    """Round the table up to a power of two so nearby bounds share one cached table."""
    return max(MIN_TABLE_ENTRIES, 1 << (math.isqrt(max_value) - 1).bit_length())


def discrete_log(target: bytes, max_value: int) -> int:
    """m in [0, max_value] with g^m = target, else DecryptionFailed (DecodeError if target is not
    a valid point)."""
    if not 0 <= max_value <= MAX_DLOG_VALUE:
        raise ValueError(f"bound {max_value} outside 0..{MAX_DLOG_VALUE}")
    size = _table_size(max_value)
    table = _baby_steps(size)
    giant = decaf.base_mult(size)
    point = decaf.Element.decode(target, allow_identity=True)
    for i in range(max_value // size + 1):
        j = table.get(point.encode())
        if j is not None and i * size + j <= max_value:
            return i * size + j
        point = point - giant
    raise DecryptionFailed(f"plaintext not in 0..{max_value}")
