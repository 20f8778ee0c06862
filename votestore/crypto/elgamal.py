"""Exponential ElGamal on ristretto255: Enc_K(m; r) = (g^r, g^m K^r).

Adding ciphertexts adds the plaintexts, which is how the count is formed without opening a
ballot; the price is that decryption yields g^m and m is found by a bounded discrete log (dlog.py).

A ciphertext is handled in two forms: its encoding (`Pair`: what the ledger stores and what
proof statements hash) and, where it is summed or checked, libdecaf elements (`Ciphertext`),
decoded once so each addition costs ~0.4 us instead of a decode-add-encode round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from proto.votestore.v1 import election_pb2
from votestore.crypto import decaf, group

Pair = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """(alpha, beta) as bytes and as elements; built only by decoding or by computing, so the
    two always name the same points."""

    alpha: bytes
    beta: bytes
    alpha_el: decaf.Element
    beta_el: decaf.Element

    @property
    def pair(self) -> Pair:
        return self.alpha, self.beta

    @classmethod
    def of(cls, alpha_el: decaf.Element, beta_el: decaf.Element) -> Ciphertext:
        return cls(alpha_el.encode(), beta_el.encode(), alpha_el, beta_el)


def encrypt(key: bytes, value: int, nonce: int) -> Ciphertext:
    """(g^nonce, g^value key^nonce), key^nonce from the key's precomputed table. The same calls
    for every value (g^0 is computed and added too): no branch on the plaintext; what still
    depends on secrets is said in docs/crypto.md ("What leaks").

    Raises DecodeError if the key is not a valid point."""
    masked = decaf.table_for(key).mult(nonce) + decaf.base_mult(value)
    return Ciphertext.of(decaf.base_mult(nonce), masked)


def sum_all(ciphertexts: Sequence[Ciphertext]) -> Ciphertext:
    return Ciphertext.of(
        decaf.sum_elements(c.alpha_el for c in ciphertexts),
        decaf.sum_elements(c.beta_el for c in ciphertexts),
    )


def decode(ct: election_pb2.Ciphertext, *, allow_identity: bool) -> Pair:
    """Both parts validated; raises DecodeError. Fresh ballot ciphertexts forbid the identity,
    aggregates allow it (an empty tally is (identity, identity))."""
    return (
        group.decode_point(ct.alpha, allow_identity=allow_identity),
        group.decode_point(ct.beta, allow_identity=allow_identity),
    )


def decode_elements(ct: election_pb2.Ciphertext, *, allow_identity: bool) -> Ciphertext:
    """As `decode`, keeping the decoded elements for sums and proof checks."""
    return Ciphertext(
        bytes(ct.alpha),
        bytes(ct.beta),
        decaf.Element.decode(ct.alpha, allow_identity=allow_identity),
        decaf.Element.decode(ct.beta, allow_identity=allow_identity),
    )


def to_pb(ct: Ciphertext | Pair) -> election_pb2.Ciphertext:
    alpha, beta = ct.pair if isinstance(ct, Ciphertext) else ct
    return election_pb2.Ciphertext(alpha=alpha, beta=beta)
