"""Canonical signing bytes, the injected signer/verifier, and certificate checking.

The layouts are the protocol's, byte for byte the same as `votestore.encoding` produces (a test
holds them equal); they are restated here because the core imports nothing but `votestore`'s types:

    vote:     b"votestore/v1/vote\\x00" ‖ len(chain_id):u16be ‖ chain_id:utf8 ‖ type:u8 (1 prevote,
              2 precommit) ‖ height:u64be ‖ round:u32be ‖ validator:u32be ‖ len(block_id):u8 (0 nil
              or 32) ‖ block_id
    proposal: b"votestore/v1/proposal\\x00" ‖ len(chain_id):u16be ‖ chain_id:utf8 ‖ height:u64be ‖
              round:u32be ‖ valid_round:i32be (-1 none) ‖ proposer:u32be ‖ block_id (32 bytes)
"""

from __future__ import annotations

import struct
from typing import Final, Protocol

from node.consensus.config import ValidatorSet
from node.consensus.messages import Certificate, Proposal, Vote, VoteType

VOTE_DOMAIN: Final = b"votestore/v1/vote\x00"
PROPOSAL_DOMAIN: Final = b"votestore/v1/proposal\x00"
BLOCK_ID_BYTES: Final = 32
MAX_CHAIN_ID_BYTES: Final = 64
MAX_HEIGHT: Final = 2**64 - 1
MAX_ROUND: Final = 2**31 - 1  # valid_round is a signed 32-bit field and must be able to name any round


class Signer(Protocol):
    """Signs with this validator's key (Ed25519 in production)."""

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    """Checks a signature by validator index against the genesis keys; never raises."""

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool: ...


def _chain(chain_id: str) -> bytes:
    raw = chain_id.encode()
    if not 1 <= len(raw) <= MAX_CHAIN_ID_BYTES:
        raise ValueError(f"chain id must be 1..{MAX_CHAIN_ID_BYTES} bytes, got {len(raw)}")
    return struct.pack(">H", len(raw)) + raw


def vote_signing_bytes(
    chain_id: str, vote_type: VoteType, height: int, round_: int, validator: int, block_id: bytes | None
) -> bytes:
    raw_id = b"" if block_id is None else block_id
    if len(raw_id) != (0 if block_id is None else BLOCK_ID_BYTES):
        raise ValueError(f"block id must be None (nil) or {BLOCK_ID_BYTES} bytes")
    return (
        VOTE_DOMAIN
        + _chain(chain_id)
        + struct.pack(">BQII", VoteType(vote_type), height, round_, validator)
        + bytes([len(raw_id)])
        + raw_id
    )


def proposal_signing_bytes(
    chain_id: str, height: int, round_: int, valid_round: int, proposer: int, block_id: bytes
) -> bytes:
    if len(block_id) != BLOCK_ID_BYTES:
        raise ValueError(f"proposal block id must be {BLOCK_ID_BYTES} bytes")
    return (
        PROPOSAL_DOMAIN
        + _chain(chain_id)
        + struct.pack(">QIiI", height, round_, valid_round, proposer)
        + block_id
    )


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
    its height and round. Needs nothing but the genesis validator set."""
    if not 1 <= certificate.height <= MAX_HEIGHT or not 0 <= certificate.round <= MAX_ROUND:
        return False
    if len(certificate.block_id) != BLOCK_ID_BYTES:
        return False
    signers = [validator for validator, _ in certificate.signatures]
    if len(set(signers)) != len(signers) or len(signers) < validators.quorum:
        return False
    return all(
        validator in validators
        and verifier.verify(
            validator,
            vote_signing_bytes(
                chain_id,
                VoteType.PRECOMMIT,
                certificate.height,
                certificate.round,
                validator,
                certificate.block_id,
            ),
            signature,
        )
        for validator, signature in certificate.signatures
    )
