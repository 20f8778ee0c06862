"""Threshold decryption of the aggregate: each trustee publishes alpha^(s_i) with a DLEQ proof
against its verification key g^(s_i); any t of them combine by Lagrange interpolation in the
exponent to alpha^s, and the count is the bounded discrete log of beta / alpha^s.

Only aggregates are decrypted here; the state machine decides which aggregate (the one bound to
the committed close height), never a chosen subset of ballots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from proto.votestore.v1 import election_pb2
from votestore.crypto import elgamal, group, proofs
from votestore.crypto.dlog import discrete_log
from votestore.crypto.errors import DecryptionFailed
from votestore.crypto.group import L
from votestore.crypto.transcript import Part
from votestore.errors import DecodeError

PARTIAL_DOMAIN: Final = b"votestore/v1/decrypt/partial"


def _context(election_id: str, trustee_index: int, ciphertext: elgamal.Pair) -> tuple[Part, ...]:
    return (election_id, trustee_index, ciphertext[0], ciphertext[1])


def partial_decrypt(
    election_id: str, trustee_index: int, secret_share: bytes, aggregate: Sequence[election_pb2.Ciphertext]
) -> list[election_pb2.PartialDecryption]:
    """alpha^(s_i) for every aggregate ciphertext, each with a proof binding election, trustee,
    verification key and ciphertext."""
    assert trustee_index >= 1
    s = group.decode_scalar(secret_share)
    assert s != 0
    vk = group.base_mult(s)
    parts = []
    for ct in aggregate:
        pair = elgamal.decode(ct, allow_identity=True)
        share = group.mult(s, pair[0])
        proof = proofs.prove_dleq(
            PARTIAL_DOMAIN, _context(election_id, trustee_index, pair), pair[0], vk, share, s
        )
        parts.append(
            election_pb2.PartialDecryption(
                share=share,
                proof=election_pb2.DleqProof(
                    challenge=group.encode_scalar(proof.challenge),
                    response=group.encode_scalar(proof.response),
                ),
            )
        )
    return parts


def verify_partial(
    election_id: str,
    trustee_index: int,
    verification_key: bytes,
    ciphertext: election_pb2.Ciphertext,
    part: election_pb2.PartialDecryption,
) -> bool:
    """True iff the part is well formed and its proof holds for this trustee and ciphertext."""
    try:
        vk = group.decode_point(verification_key)
        pair = elgamal.decode(ciphertext, allow_identity=True)
        share = group.decode_point(part.share, allow_identity=True)
        proof = proofs.Dleq(
            group.decode_scalar(part.proof.challenge), group.decode_scalar(part.proof.response)
        )
    except DecodeError:
        return False
    return proofs.verify_dleq(
        PARTIAL_DOMAIN, _context(election_id, trustee_index, pair), pair[0], vk, share, proof
    )


def lagrange_at_zero(indices: Sequence[int]) -> dict[int, int]:
    """Coefficients l_i with f(0) = sum l_i f(i) for any polynomial of degree < len(indices)."""
    assert len(set(indices)) == len(indices) and all(i >= 1 for i in indices)
    coefficients = {}
    for i in indices:
        num, den = 1, 1
        for j in indices:
            if j != i:
                num = num * j % L
                den = den * (j - i) % L
        coefficients[i] = num * pow(den, -1, L) % L
    return coefficients


def combine(
    election_id: str,
    aggregate: Sequence[election_pb2.Ciphertext],
    parts_by_trustee: Mapping[int, Sequence[election_pb2.PartialDecryption]],
    max_count: int,
    *,
    threshold: int | None = None,
) -> list[int]:
    """The plaintext counts from verified parts of at least t trustees (indices 1-based).

    With fewer than t parts the interpolated point is unrelated to the count, so the bounded
    discrete log finds nothing and DecryptionFailed is raised (with a known threshold, at once).
    """
    if not parts_by_trustee:
        raise DecryptionFailed(f"election {election_id}: no decryption shares")
    if threshold is not None and len(parts_by_trustee) < threshold:
        raise DecryptionFailed(f"election {election_id}: {len(parts_by_trustee)} shares, need {threshold}")
    for trustee, parts in parts_by_trustee.items():
        if len(parts) != len(aggregate):
            raise DecryptionFailed(f"trustee {trustee}: {len(parts)} parts for {len(aggregate)} ciphertexts")
    lagrange = lagrange_at_zero(list(parts_by_trustee))
    counts = []
    for position, ct in enumerate(aggregate):
        try:
            beta = group.decode_point(ct.beta, allow_identity=True)
            terms = [
                group.mult(lagrange[t], group.decode_point(parts[position].share, allow_identity=True))
                for t, parts in parts_by_trustee.items()
            ]
        except DecodeError as e:
            raise DecryptionFailed(f"election {election_id}: ciphertext {position}: {e}") from e
        counts.append(discrete_log(group.sub(beta, group.add_all(terms)), max_count))
    return counts
