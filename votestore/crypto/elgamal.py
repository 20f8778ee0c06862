"""Exponential ElGamal on ristretto255: Enc_K(m; r) = (g^r, g^m K^r).

Adding ciphertexts adds the plaintexts, which is how the count is formed without opening a
ballot; the price is that decryption yields g^m and m is found by a bounded discrete log (dlog.py).
"""

from __future__ import annotations

from proto.votestore.v1 import election_pb2
from votestore.crypto import group
from votestore.crypto.group import GENERATOR

Pair = tuple[bytes, bytes]


def encrypt(key: bytes, value: int, nonce: int) -> Pair:
    """(g^nonce, g^value key^nonce); value 0 or 1 costs no base multiplication for g^value."""
    alpha = group.base_mult(nonce)
    masked = group.mult(nonce, key)
    if value == 0:
        return alpha, masked
    g_value = GENERATOR if value == 1 else group.base_mult(value)
    return alpha, group.add(masked, g_value)


def add(a: Pair, b: Pair) -> Pair:
    return group.add(a[0], b[0]), group.add(a[1], b[1])


def decode(ct: election_pb2.Ciphertext, *, allow_identity: bool) -> Pair:
    """Both parts validated; raises DecodeError. Fresh ballot ciphertexts forbid the identity,
    aggregates allow it (an empty tally is (identity, identity))."""
    return (
        group.decode_point(ct.alpha, allow_identity=allow_identity),
        group.decode_point(ct.beta, allow_identity=allow_identity),
    )


def to_pb(pair: Pair) -> election_pb2.Ciphertext:
    return election_pb2.Ciphertext(alpha=pair[0], beta=pair[1])
