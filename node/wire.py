"""Conversions between the wire records (protobuf) and the consensus core's values.

The core never sees protobuf; the shell converts at the edge. A message that does not convert is
garbage from a peer and is counted, not raised further.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError as ProtobufDecodeError

from node.consensus import Certificate, LastSigned, Proposal, Step, Vote, VoteType
from proto.votestore.v1 import ledger_pb2, peer_pb2
from votestore.errors import DecodeError, StoreCorrupted


def consensus_message(message: peer_pb2.PeerMessage) -> Proposal | Vote | None:
    """The proposal or vote a peer message carries, None for the other kinds; DecodeError if it
    carries one that does not convert. The node's and the simulator's dispatch both start here."""
    kind = message.WhichOneof("kind")
    if kind == "proposal":
        return proposal_from_wire(message.proposal)
    if kind == "vote":
        return vote_from_wire(message.vote)
    return None


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
    message = ledger_pb2.LastSignedRecord(
        height=record.height,
        round=record.round,
        step=int(record.step),
        block_id=record.block_id or b"",
        block_id_nil=record.block_id is None,
        locked_round=record.locked_round,
        locked_block_id=record.locked_block_id or b"",
        valid_round=record.valid_round,
        valid_proof=[vote_to_wire(v) for v in record.valid_proof],
    )
    if record.valid_proposal is not None:
        message.valid_proposal.CopyFrom(proposal_to_wire(record.valid_proposal))
    if record.round_prevote is not None:
        message.round_prevote.CopyFrom(vote_to_wire(record.round_prevote))
    if record.earlier_precommit is not None:
        message.earlier_precommit.CopyFrom(vote_to_wire(record.earlier_precommit))
    return message.SerializeToString(deterministic=True)


def decode_last_signed(raw: bytes, height: int) -> LastSigned:
    message = ledger_pb2.LastSignedRecord()
    try:
        message.ParseFromString(raw)
        return LastSigned(
            height=message.height,
            round=message.round,
            step=Step(message.step),
            block_id=None if message.block_id_nil else message.block_id,
            locked_round=message.locked_round,
            locked_block_id=message.locked_block_id or None,
            valid_round=message.valid_round,
            valid_proposal=(
                proposal_from_wire(message.valid_proposal) if message.HasField("valid_proposal") else None
            ),
            valid_proof=tuple(vote_from_wire(v) for v in message.valid_proof),
            round_prevote=(
                vote_from_wire(message.round_prevote) if message.HasField("round_prevote") else None
            ),
            earlier_precommit=(
                vote_from_wire(message.earlier_precommit) if message.HasField("earlier_precommit") else None
            ),
        )
    except (ProtobufDecodeError, DecodeError, ValueError):
        raise StoreCorrupted(height, "last-signed record does not decode") from None
