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
    total: election_pb2.Ciphertext, ciphertexts: Sequence[election_pb2.Ciphertext | elgamal.Ciphertext]
) -> election_pb2.Ciphertext:
    """`total` plus each of `ciphertexts`: every encoded point decoded (so validated) once, the
    sums taken on decoded elements and encoded once at the end. Raises DecodeError on a bad
    point. An `elgamal.Ciphertext` counts as decoded already (its points were validated)."""
    parts = [
        c if isinstance(c, elgamal.Ciphertext) else elgamal.decode_elements(c, allow_identity=True)
        for c in (total, *ciphertexts)
    ]
    return elgamal.to_pb(elgamal.sum_all(parts))


def handover(decoded: Sequence[elgamal.Ciphertext]) -> bytes:
    """A ballot's ciphertexts, decoded and validated with its proofs in a worker process, for
    the tally in the node's own process: each alpha and beta in libdecaf's internal form, in
    order, so `taken_over` costs ~1 us a point where decoding costs ~5 us."""
    return b"".join(point for ct in decoded for point in (ct.alpha_el.internal(), ct.beta_el.internal()))


def taken_over(selections: Sequence[election_pb2.Ciphertext], handed: bytes) -> list[elgamal.Ciphertext]:
    """`selections` decoded, from what `handover` made of them in a process of this program:
    trusted, not checked, so the caller must know `handed` came from these very ciphertexts
    (the node keys it by the hash of the transaction its worker decoded)."""
    size = decaf.INTERNAL_BYTES
    assert len(handed) == 2 * size * len(selections), (len(handed), len(selections))
    return [
        elgamal.Ciphertext(
            ct.alpha,
            ct.beta,
            decaf.Element.from_internal(handed[2 * at * size : (2 * at + 1) * size]),
            decaf.Element.from_internal(handed[(2 * at + 1) * size : (2 * at + 2) * size]),
        )
        for at, ct in enumerate(selections)
    ]
