"""Signing bytes, the injected signer/verifier, and the core's view of the certificate check.

The layouts are the protocol's, defined once in `votestore.encoding` (the shared kernel the core
may import): the node, the verifier and receipt checks produce the very same bytes. The core adds
its own stricter form of nil: `None`, never empty bytes.
"""

from __future__ import annotations

from typing import Protocol

from node.consensus.config import ValidatorSet
from node.consensus.messages import Certificate, Proposal, Vote, VoteType
from votestore import encoding
from votestore.certificate import MAX_HEIGHT as MAX_HEIGHT
from votestore.certificate import MAX_ROUND as MAX_ROUND
from votestore.certificate import CertificateInvalid, check_precommits
from votestore.encoding import BLOCK_ID_BYTES as BLOCK_ID_BYTES


class Signer(Protocol):
    """Signs with this validator's key (Ed25519 in production)."""

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    """Checks a signature by validator index against the genesis keys; never raises."""

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool: ...


def vote_signing_bytes(
    chain_id: str, vote_type: VoteType, height: int, round_: int, validator: int, block_id: bytes | None
) -> bytes:
    if block_id is not None and len(block_id) != BLOCK_ID_BYTES:
        raise ValueError(f"block id must be None (nil) or {BLOCK_ID_BYTES} bytes")
    return encoding.vote_signing_bytes(
        chain_id, int(VoteType(vote_type)), height, round_, validator, block_id or b""
    )


def proposal_signing_bytes(
    chain_id: str, height: int, round_: int, valid_round: int, proposer: int, block_id: bytes
) -> bytes:
    return encoding.proposal_signing_bytes(chain_id, height, round_, valid_round, proposer, block_id)


def signing_bytes(chain_id: str, message: Proposal | Vote) -> bytes:
    """The bytes a message's signature covers."""
    if isinstance(message, Vote):
        return vote_signing_bytes(
            chain_id, message.type, message.height, message.round, message.validator, message.block_id
        )
    return proposal_signing_bytes(
        chain_id, message.height, message.round, message.valid_round, message.proposer, message.block_id
    )


def verify_certificate(
    certificate: Certificate, chain_id: str, validators: ValidatorSet, verifier: Verifier
) -> bool:
    """True iff a quorum of distinct validators signed PRECOMMIT for the certificate's block id at
    its height and round: `votestore.certificate.check_precommits`, the one check, as a verdict."""
    try:
        check_precommits(
            chain_id,
            validators.size,
            certificate.height,
            certificate.round,
            certificate.block_id,
            certificate.signatures,
            verifier.verify,
        )
    except CertificateInvalid:
        return False
    return True
