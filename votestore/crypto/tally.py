"""The running encrypted tally the election state machine keeps per choice."""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import election_pb2
from votestore.crypto import decaf, elgamal
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
    """`total` plus each of `ciphertexts` (see `add_ballots`)."""
    (out,) = add_ballots([total], [[c] for c in ciphertexts], [])
    return out


def add_ballots(
    totals: Sequence[election_pb2.Ciphertext],
    encoded: Sequence[Sequence[election_pb2.Ciphertext]],
    handed: Sequence[bytes],
) -> list[election_pb2.Ciphertext]:
    """`totals[i]` plus the i-th ciphertext of every ballot, `encoded` ones (each point decoded,
    so validated, once here) and `handed` ones (`handover`'s bytes: decoded already): the sums
    taken on decoded elements and encoded once at the end. Raises DecodeError on a bad point."""
    width = len(totals)
    assert all(len(ballot) == width for ballot in encoded), width
    extra = decaf.sum_internal(handed, 2 * width)
    out = []
    for at, total in enumerate(totals):
        parts = [elgamal.decode_elements(c, allow_identity=True) for c in (total, *(b[at] for b in encoded))]
        alpha = decaf.sum_elements([extra[2 * at], *(p.alpha_el for p in parts)])
        beta = decaf.sum_elements([extra[2 * at + 1], *(p.beta_el for p in parts)])
        out.append(elgamal.to_pb(elgamal.Ciphertext.of(alpha, beta)))
    return out


def handover(decoded: Sequence[elgamal.Ciphertext]) -> bytes:
    """A ballot's ciphertexts, decoded and validated with its proofs in a worker process, for
    the tally in the node's own process (`add_ballots`): each alpha and beta in libdecaf's
    internal form, in order, so adding them costs no decoding (~5 us a point)."""
    return b"".join(point for ct in decoded for point in (ct.alpha_el.internal(), ct.beta_el.internal()))
