"""Chaum-Pedersen proofs in (challenge, response) form, made non-interactive by Fiat-Shamir.

- DLEQ: log_g(pub1) = log_base2(pub2), for decryption shares and DKG complaints.
- Range: a disjunctive (Cramer-Damgard-Schoenmakers) proof that an exponential ElGamal
  ciphertext (A, B) = (g^R, g^M K^R) under key K encrypts some M in [lo, hi]; one
  (challenge, response) per admissible value, the challenges summing to the hash of the statement.
  With lo=0, hi=1 it is the 0/1 proof of a selection; with [min, max] the proof of a contest sum.

The proof is statistically sound even for a prover who knows log_g K, so trustees colluding with a
voter cannot stuff a ballot. Callers pass the statement's context (constant domain, election id,
indices, ...); the functions add every point of the statement and every commitment to the hash.
Points given here are already validated (group.decode_point); scalars are canonical ints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from votestore.crypto import group
from votestore.crypto.group import GENERATOR, L
from votestore.crypto.transcript import Part, challenge


@dataclass(frozen=True, slots=True)
class Dleq:
    challenge: int
    response: int


@dataclass(frozen=True, slots=True)
class RangeProof:
    challenges: tuple[int, ...]
    responses: tuple[int, ...]


def _double_mult(s1: int, p1: bytes, s2: int, p2: bytes) -> bytes:
    """p1^s1 * p2^s2; libsodium exposes no multi-scalar multiplication for ristretto255."""
    return group.add(group.mult(s1, p1), group.mult(s2, p2))


def _base_double_mult(s1: int, s2: int, p2: bytes) -> bytes:
    """g^s1 * p2^s2, using the fixed-base table for g."""
    return group.add(group.base_mult(s1), group.mult(s2, p2))


def prove_dleq(
    domain: bytes, context: tuple[Part, ...], base2: bytes, pub1: bytes, pub2: bytes, secret: int
) -> Dleq:
    """Prove pub1 = g^secret and pub2 = base2^secret."""
    assert 0 < secret < L
    w = group.random_scalar()
    a = group.base_mult(w)
    b = group.mult(w, base2)
    c = challenge(domain, *context, GENERATOR, base2, pub1, pub2, a, b)
    return Dleq(c, (w + c * secret) % L)


def verify_dleq(
    domain: bytes, context: tuple[Part, ...], base2: bytes, pub1: bytes, pub2: bytes, proof: Dleq
) -> bool:
    minus_c = L - proof.challenge
    a = _base_double_mult(proof.response, minus_c, pub1)
    b = _double_mult(proof.response, base2, minus_c, pub2)
    return challenge(domain, *context, GENERATOR, base2, pub1, pub2, a, b) == proof.challenge


def _statement(key: bytes, alpha: bytes, beta: bytes, lo: int, hi: int) -> tuple[Part, ...]:
    return (GENERATOR, key, alpha, beta, lo, hi)


def prove_range(
    domain: bytes,
    context: tuple[Part, ...],
    key: bytes,
    alpha: bytes,
    beta: bytes,
    nonce: int,
    value: int,
    lo: int,
    hi: int,
) -> RangeProof:
    """Prove (alpha, beta) = (g^nonce, g^value key^nonce) with value in [lo, hi].

    The prover knows the nonce, so each simulated branch's commitments cost one base and one
    variable-base multiplication (a = g^u, b = key^u g^((k - value) c_k)) instead of four.
    """
    assert lo <= value <= hi and 0 < nonce < L
    count = hi - lo + 1
    challenges = [0] * count
    responses = [0] * count
    commitments: list[bytes] = []
    w = group.random_scalar()
    for i in range(count):
        k = lo + i
        if k == value:
            commitments += [group.base_mult(w), group.mult(w, key)]
            continue
        c_k = group.random_scalar()
        u = group.random_scalar()
        challenges[i] = c_k
        responses[i] = (u + nonce * c_k) % L
        b = group.mult(u, key)
        commitments += [group.base_mult(u), group.add(b, group.base_mult((k - value) * c_k))]
    c = challenge(domain, *context, *_statement(key, alpha, beta, lo, hi), *commitments)
    real = value - lo
    challenges[real] = (c - sum(challenges)) % L
    responses[real] = (w + nonce * challenges[real]) % L
    return RangeProof(tuple(challenges), tuple(responses))


def verify_range(
    domain: bytes,
    context: tuple[Part, ...],
    key: bytes,
    alpha: bytes,
    beta: bytes,
    lo: int,
    hi: int,
    proof: RangeProof,
) -> bool:
    """Recompute every branch's commitments and check the challenges sum to the statement's hash."""
    count = hi - lo + 1
    if len(proof.challenges) != count or len(proof.responses) != count:
        return False
    commitments: list[bytes] = []
    shifted = beta  # beta / g^k for k = lo, lo + 1, ...
    if lo > 0:
        shifted = group.sub(beta, GENERATOR if lo == 1 else group.base_mult(lo))
    for i, (c_k, v_k) in enumerate(zip(proof.challenges, proof.responses, strict=True)):
        if i > 0:
            shifted = group.sub(shifted, GENERATOR)
        minus_c = L - c_k
        commitments.append(_base_double_mult(v_k, minus_c, alpha))
        commitments.append(_double_mult(v_k, key, minus_c, shifted))
    c = challenge(domain, *context, *_statement(key, alpha, beta, lo, hi), *commitments)
    return sum(proof.challenges) % L == c


def range_to_pb_fields(proof: RangeProof) -> tuple[list[bytes], list[bytes]]:
    return [group.encode_scalar(c) for c in proof.challenges], [
        group.encode_scalar(v) for v in proof.responses
    ]


def range_from_fields(challenges: Sequence[bytes], responses: Sequence[bytes]) -> RangeProof:
    """Decode canonical scalars; raises DecodeError on a bad size or a non-reduced scalar."""
    return RangeProof(
        tuple(group.decode_scalar(c) for c in challenges), tuple(group.decode_scalar(v) for v in responses)
    )
