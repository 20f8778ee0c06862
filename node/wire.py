"""Conversions between the wire records (protobuf) and the consensus core's values.

The core never sees protobuf; the shell converts at the edge. A message that does not convert is
garbage from a peer and is counted, not raised further.
"""

from __future__ import annotations

import json

from node.consensus import Certificate, LastSigned, Proposal, Step, Vote, VoteType
from proto.votestore.v1 import ledger_pb2
from votestore.errors import DecodeError, StoreCorrupted


def vote_from_wire(message: ledger_pb2.Vote) -> Vote:
    if message.type not in (ledger_pb2.PREVOTE, ledger_pb2.PRECOMMIT):
        raise DecodeError(f"unknown vote type {message.type}")
    if len(message.block_id) not in (0, 32):
        raise DecodeError("vote block id must be empty or 32 bytes")
    return Vote(
        type=VoteType(message.type),
        height=message.height,
        round=message.round,
        block_id=message.block_id or None,
        validator=message.validator,
        signature=message.signature,
    )


def vote_to_wire(vote: Vote) -> ledger_pb2.Vote:
    return ledger_pb2.Vote(
        type=int(vote.type),  # type: ignore[arg-type]
        height=vote.height,
        round=vote.round,
        block_id=vote.block_id or b"",
        validator=vote.validator,
        signature=vote.signature,
    )


def proposal_from_wire(message: ledger_pb2.Proposal) -> Proposal:
    if len(message.block_id) != 32:
        raise DecodeError("proposal block id must be 32 bytes")
    return Proposal(
        height=message.height,
        round=message.round,
        valid_round=message.valid_round,
        block_id=message.block_id,
        proposer=message.proposer,
        signature=message.signature,
        payload=message.block.SerializeToString(deterministic=True),
    )


def proposal_to_wire(proposal: Proposal) -> ledger_pb2.Proposal:
    block = ledger_pb2.Block()
    block.ParseFromString(proposal.payload)
    return ledger_pb2.Proposal(
        height=proposal.height,
        round=proposal.round,
        valid_round=proposal.valid_round,
        block_id=proposal.block_id,
        proposer=proposal.proposer,
        signature=proposal.signature,
        block=block,
    )


def certificate_to_wire(certificate: Certificate) -> ledger_pb2.CommitCertificate:
    return ledger_pb2.CommitCertificate(
        height=certificate.height,
        round=certificate.round,
        block_id=certificate.block_id,
        signatures=[ledger_pb2.CommitSig(validator=v, signature=s) for v, s in certificate.signatures],
    )


def certificate_from_wire(message: ledger_pb2.CommitCertificate) -> Certificate:
    return Certificate(
        height=message.height,
        round=message.round,
        block_id=message.block_id,
        signatures=tuple(sorted((s.validator, s.signature) for s in message.signatures)),
    )


def encode_last_signed(record: LastSigned) -> bytes:
    return json.dumps(
        {
            "height": record.height,
            "round": record.round,
            "step": int(record.step),
            "block_id": None if record.block_id is None else record.block_id.hex(),
            "locked_round": record.locked_round,
            "locked_block_id": None if record.locked_block_id is None else record.locked_block_id.hex(),
        }
    ).encode()


def decode_last_signed(raw: bytes, height: int) -> LastSigned:
    try:
        d = json.loads(raw)
        return LastSigned(
            height=d["height"],
            round=d["round"],
            step=Step(d["step"]),
            block_id=None if d["block_id"] is None else bytes.fromhex(d["block_id"]),
            locked_round=d["locked_round"],
            locked_block_id=None if d["locked_block_id"] is None else bytes.fromhex(d["locked_block_id"]),
        )
    except (ValueError, KeyError, TypeError):
        raise StoreCorrupted(height, "last-signed record does not decode") from None
