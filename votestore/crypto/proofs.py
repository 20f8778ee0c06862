"""Chaum-Pedersen proofs in (challenge, response) form, made non-interactive by Fiat-Shamir.

- Schnorr: knowledge of log_g(pub), for key-generation commitments (a dealer proves it knows each
  coefficient it commits to, so it cannot choose its commitments from the other dealers').
- DLEQ: log_g(pub1) = log_base2(pub2), for decryption shares and DKG complaints.
- Range: a disjunctive (Cramer-Damgard-Schoenmakers) proof that an exponential ElGamal
  ciphertext (A, B) = (g^R, g^M K^R) under key K encrypts some M in [lo, hi]; one
  (challenge, response) per admissible value, the challenges summing to the hash of the statement.
  With lo=0, hi=1 it is the 0/1 proof of a selection; with [min, max] the proof of a contest sum.

The proof is statistically sound even for a prover who knows log_g K, so trustees colluding with a
voter cannot stuff a ballot. Callers pass the statement's context (constant domain, election id,
indices, ...); the functions add every point of the statement and every commitment to the hash.
Points given here are already validated (group.decode_point, elgamal.decode_elements); scalars
are canonical ints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from votestore.crypto import decaf, group
from votestore.crypto.elgamal import Ciphertext
from votestore.crypto.group import GENERATOR, L
from votestore.crypto.transcript import Part, challenge


@dataclass(frozen=True, slots=True)
class Schnorr:
    challenge: int
    response: int


@dataclass(frozen=True, slots=True)
class Dleq:
    challenge: int
    response: int


@dataclass(frozen=True, slots=True)
class RangeProof:
    challenges: tuple[int, ...]
    responses: tuple[int, ...]


def prove_schnorr(domain: bytes, context: tuple[Part, ...], pub: bytes, secret: int) -> Schnorr:
    """Prove knowledge of `secret` with pub = g^secret; the challenge hashes the whole statement
    (domain, context, generator, pub) and the commitment h = g^w."""
    assert 0 < secret < L
    w = group.random_scalar()
    h = group.base_mult(w)
    c = challenge(domain, *context, GENERATOR, pub, h)
    return Schnorr(c, (w + c * secret) % L)


def verify_schnorr(domain: bytes, context: tuple[Part, ...], pub: bytes, proof: Schnorr) -> bool:
    """Recompute h = g^v pub^-c and check c = H(statement, h); `pub` already validated."""
    pub_el = decaf.Element.decode(pub, allow_identity=True)
    h = decaf.base_double_mult_vartime(proof.response, pub_el, L - proof.challenge).encode()
    return challenge(domain, *context, GENERATOR, pub, h) == proof.challenge


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
    pub1_el = decaf.Element.decode(pub1, allow_identity=True)
    a = decaf.base_double_mult_vartime(proof.response, pub1_el, minus_c).encode()
    b = group.add(group.mult(proof.response, base2), group.mult(minus_c, pub2))
    return challenge(domain, *context, GENERATOR, base2, pub1, pub2, a, b) == proof.challenge


def _statement(key: bytes, ct: Ciphertext, lo: int, hi: int) -> tuple[Part, ...]:
    return (GENERATOR, key, ct.alpha, ct.beta, lo, hi)


def prove_range(
    domain: bytes,
    context: tuple[Part, ...],
    key: bytes,
    ct: Ciphertext,
    nonce: int,
    value: int,
    lo: int,
    hi: int,
) -> RangeProof:
    """Prove ct = (g^nonce, g^value key^nonce) with value in [lo, hi].

    The prover knows the nonce, so each branch's commitments cost two fixed-base multiplications
    and one from the key's table (a = g^u, b = key^u g^((k - value) c_k)) instead of four plain
    ones. Every branch, the real one included, makes the same calls (for the real branch u is the
    real commitment's w and (k - value) c_k is 0): the code does not branch on the value; only the
    index of the real branch is a secret-dependent list position (docs/crypto.md, "What leaks").
    """
    assert lo <= value <= hi and 0 < nonce < L
    table = decaf.table_for(key)
    count = hi - lo + 1
    real = value - lo
    challenges = [group.random_scalar() for _ in range(count)]
    commitment_nonces = [group.random_scalar() for _ in range(count)]
    w = commitment_nonces[real]
    commitments: list[bytes] = []
    for i, (c_k, u) in enumerate(zip(challenges, commitment_nonces, strict=True)):
        b = table.mult(u) + decaf.base_mult((lo + i - value) * c_k)
        commitments += [decaf.base_mult(u).encode(), b.encode()]
    responses = [(u + nonce * c_k) % L for c_k, u in zip(challenges, commitment_nonces, strict=True)]
    c = challenge(domain, *context, *_statement(key, ct, lo, hi), *commitments)
    challenges[real] = (c - sum(challenges) + challenges[real]) % L
    responses[real] = (w + nonce * challenges[real]) % L
    return RangeProof(tuple(challenges), tuple(responses))


def verify_range(
    domain: bytes,
    context: tuple[Part, ...],
    key: bytes,
    ct: Ciphertext,
    lo: int,
    hi: int,
    proof: RangeProof,
) -> bool:
    """Recompute every branch's commitments and check the challenges sum to the statement's hash.

    Branch k's commitments are a = g^v alpha^-c and b = key^v (beta / g^k)^-c
    = key^v * g^(k c) beta^-c: one variable-time double multiplication each (all inputs public)
    plus a multiple of the key from its table.
    """
    count = hi - lo + 1
    if len(proof.challenges) != count or len(proof.responses) != count:
        return False
    table = decaf.table_for(key)
    commitments: list[bytes] = []
    for i, (c_k, v_k) in enumerate(zip(proof.challenges, proof.responses, strict=True)):
        minus_c = L - c_k
        commitments.append(decaf.base_double_mult_vartime(v_k, ct.alpha_el, minus_c).encode())
        b = table.mult(v_k) + decaf.base_double_mult_vartime((lo + i) * c_k, ct.beta_el, minus_c)
        commitments.append(b.encode())
    c = challenge(domain, *context, *_statement(key, ct, lo, hi), *commitments)
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
