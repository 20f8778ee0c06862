"""Commit certificates, checkable by anyone with the genesis validator set alone.

A certificate is more than two thirds of the validators' precommit signatures (2f+1 when
n = 3f+1), from distinct validators, over one block id at one height and round. Nodes check it
before applying a fetched block; receipts and the verifier check it offline.
"""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import ledger_pb2
from votestore.encoding import BLOCK_ID_BYTES, verify_signature, vote_signing_bytes
from votestore.errors import VotestoreError
from votestore.genesis import quorum


class CertificateInvalid(VotestoreError):
    """A commit certificate that does not prove its block was committed."""


def verify_certificate(
    chain_id: str,
    validator_keys: Sequence[bytes],
    certificate: ledger_pb2.CommitCertificate,
    *,
    block_id: bytes | None = None,
    height: int | None = None,
) -> None:
    """Raise CertificateInvalid naming what is wrong; return if 2f+1 distinct validators signed."""
    if len(certificate.block_id) != BLOCK_ID_BYTES:
        raise CertificateInvalid(f"certificate block id must be {BLOCK_ID_BYTES} bytes")
    if block_id is not None and certificate.block_id != block_id:
        raise CertificateInvalid("certificate is for another block")
    if height is not None and certificate.height != height:
        raise CertificateInvalid(f"certificate is for height {certificate.height}, not {height}")
    signers: set[int] = set()
    for entry in certificate.signatures:
        if entry.validator >= len(validator_keys):
            raise CertificateInvalid(f"signer {entry.validator} is not a genesis validator")
        if entry.validator in signers:
            raise CertificateInvalid(f"validator {entry.validator} counted twice")
        message = vote_signing_bytes(
            chain_id,
            ledger_pb2.PRECOMMIT,
            certificate.height,
            certificate.round,
            entry.validator,
            certificate.block_id,
        )
        if not verify_signature(validator_keys[entry.validator], message, entry.signature):
            raise CertificateInvalid(f"bad precommit signature from validator {entry.validator}")
        signers.add(entry.validator)
    needed = quorum(len(validator_keys))
    if len(signers) < needed:
        raise CertificateInvalid(f"{len(signers)} precommits, {needed} needed")
