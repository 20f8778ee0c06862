"""The running encrypted tally the election state machine keeps per choice."""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import election_pb2
from votestore.crypto import elgamal
from votestore.crypto.group import IDENTITY


def zero_ciphertext() -> election_pb2.Ciphertext:
    """The encryption of 0 with nonce 0: the neutral element of ciphertext addition."""
    return election_pb2.Ciphertext(alpha=IDENTITY, beta=IDENTITY)


def add_ciphertexts(a: election_pb2.Ciphertext, b: election_pb2.Ciphertext) -> election_pb2.Ciphertext:
    """Homomorphic addition; raises DecodeError if either holds an invalid point."""
    return add_validated(a, [b])


def add_validated(
    total: election_pb2.Ciphertext, ciphertexts: Sequence[election_pb2.Ciphertext]
) -> election_pb2.Ciphertext:
    """`total` plus each of `ciphertexts`: every point decoded (so validated) once, the sums
    taken on decoded elements and encoded once at the end. Raises DecodeError on a bad point."""
    parts = [elgamal.decode_elements(c, allow_identity=True) for c in (total, *ciphertexts)]
    return elgamal.to_pb(elgamal.sum_all(parts))
