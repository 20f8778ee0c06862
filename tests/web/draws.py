"""Replaying the Python prover's randomness, so the JavaScript one can be held to its bytes.

Every random scalar of a ballot is drawn through `votestore.crypto.group.random_scalar` (the
selection nonces in ballot.py, the fake challenges and commitment nonces in proofs.py); patching
that one function with a list of scalars makes `encrypt_ballot` a pure function of its inputs
and the list. The JavaScript code takes the same list through its `draw` argument.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from unittest import mock

from votestore.crypto import group


def seeded_scalars(seed: int, count: int) -> list[int]:
    """`count` non-zero scalars from a seeded PRNG: test inputs, never secrets."""
    rng = random.Random(seed)
    return [rng.randrange(1, group.L) for _ in range(count)]


@contextmanager
def replaying(scalars: Sequence[int]) -> Iterator[list[int]]:
    """Inside, group.random_scalar returns `scalars` in order (IndexError past the end); yields
    the list of those drawn so far, so a caller can check every one was used."""
    drawn: list[int] = []

    def draw() -> int:
        k = scalars[len(drawn)]
        drawn.append(k)
        return k

    with mock.patch.object(group, "random_scalar", draw):
        yield drawn


def draws_needed(contests: Sequence[tuple[int, int, int]]) -> int:
    """Scalars one ballot draws: per contest, a nonce per choice, 2 x 2 per 0/1 proof and
    2 x (max - min + 1) for the sum proof; contests are (choices, min, max)."""
    return sum(n + 4 * n + 2 * (hi - lo + 1) for n, lo, hi in contests)
