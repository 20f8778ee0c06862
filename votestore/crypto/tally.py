"""The running encrypted tally the election state machine keeps per choice."""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import election_pb2
from votestore.crypto import elgamal
from votestore.crypto.group import IDENTITY, add_all


def zero_ciphertext() -> election_pb2.Ciphertext:
    """The encryption of 0 with nonce 0: the neutral element of ciphertext addition."""
    return election_pb2.Ciphertext(alpha=IDENTITY, beta=IDENTITY)


def add_ciphertexts(a: election_pb2.Ciphertext, b: election_pb2.Ciphertext) -> election_pb2.Ciphertext:
    """Homomorphic addition; raises DecodeError if either holds an invalid point."""
    return elgamal.to_pb(
        elgamal.add(elgamal.decode(a, allow_identity=True), elgamal.decode(b, allow_identity=True))
    )


def add_validated(
    total: election_pb2.Ciphertext, ciphertexts: Sequence[election_pb2.Ciphertext]
) -> election_pb2.Ciphertext:
    """`total` plus each of `ciphertexts`, whose points were validated when their proofs were
    checked; only `total` (read back from storage) is decoded again here."""
    alpha, beta = elgamal.decode(total, allow_identity=True)
    alpha = add_all([alpha, *(c.alpha for c in ciphertexts)])
    beta = add_all([beta, *(c.beta for c in ciphertexts)])
    return election_pb2.Ciphertext(alpha=alpha, beta=beta)
