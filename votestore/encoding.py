"""Canonical bytes for everything that is signed or hashed.

A signature always covers a constant domain-separation string for the kind of message, then the
chain id, then the message's deterministic bytes — so a signature made for one chain or one kind
of record never verifies for another. Transactions are signed over their body bytes exactly as
carried in `SignedTx.body`; the body is never re-encoded, so every node hashes the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import nacl.exceptions
import nacl.signing
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.errors import DecodeError, SignatureError
from votestore.hashing import sha256
from votestore.limits import MAX_TX_BYTES as MAX_TX_BYTES

PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
MAX_CHAIN_ID_BYTES: Final = 64

# One constant per kind; a new kind gets a new string, never a reused one.
TX_DOMAINS: Final[dict[str, bytes]] = {
    kind: f"votestore/v1/tx/{kind}\x00".encode()
    for kind in (
        "election_create",
        "roll_append",
        "dkg_deal",
        "dkg_complaint",
        "election_open",
        "election_close",
        "ballot",
        "decryption_share",
        "audited_ballot",
    )
}
VOTE_DOMAIN: Final = b"votestore/v1/vote\x00"
PROPOSAL_DOMAIN: Final = b"votestore/v1/proposal\x00"
HELLO_DOMAIN: Final = b"votestore/v1/hello\x00"
BLOCK_ID_BYTES: Final = 32


def canonical(message: Message) -> bytes:
    """Deterministic serialisation: equal messages give equal bytes."""
    return message.SerializeToString(deterministic=True)


def _chain(chain_id: str) -> bytes:
    raw = chain_id.encode()
    if not raw or len(raw) > MAX_CHAIN_ID_BYTES:
        raise ValueError(f"chain id must be 1..{MAX_CHAIN_ID_BYTES} bytes, got {len(raw)}")
    return struct.pack(">H", len(raw)) + raw


def tx_kind(tx: election_pb2.Tx) -> str:
    kind = tx.WhichOneof("kind")
    if kind is None:
        raise DecodeError("transaction has no body")
    return kind


def tx_signing_bytes(chain_id: str, kind: str, body: bytes) -> bytes:
    return TX_DOMAINS[kind] + _chain(chain_id) + body


def sign_tx(chain_id: str, tx: election_pb2.Tx, key: nacl.signing.SigningKey) -> election_pb2.SignedTx:
    body = canonical(tx)
    signature = key.sign(tx_signing_bytes(chain_id, tx_kind(tx), body)).signature
    return election_pb2.SignedTx(body=body, signer=bytes(key.verify_key), signature=signature)


def decode_signed_tx(raw: bytes) -> tuple[election_pb2.SignedTx, election_pb2.Tx]:
    """Parse the envelope and its body; sizes checked, no signature checked yet."""
    if len(raw) > MAX_TX_BYTES:
        raise DecodeError(f"transaction of {len(raw)} bytes exceeds {MAX_TX_BYTES}")
    envelope = election_pb2.SignedTx()
    tx = election_pb2.Tx()
    try:
        envelope.ParseFromString(raw)
        tx.ParseFromString(envelope.body)
    except ProtobufDecodeError as exc:
        raise DecodeError(f"malformed transaction: {exc}") from None
    envelope.DiscardUnknownFields()
    if canonical(envelope) != raw:
        # One encoding per envelope too, so the tracking code (the hash of these bytes) is a
        # function of what the voter signed: a relay that re-encodes it (an unknown field, a
        # longer varint, fields reordered or repeated) gets a refusal, not a second hash.
        raise DecodeError("transaction envelope is not in canonical form")
    if len(envelope.signer) != PUBLIC_KEY_BYTES:
        raise DecodeError(f"signer key must be {PUBLIC_KEY_BYTES} bytes, got {len(envelope.signer)}")
    if len(envelope.signature) != SIGNATURE_BYTES:
        raise DecodeError(f"signature must be {SIGNATURE_BYTES} bytes, got {len(envelope.signature)}")
    tx_kind(tx)
    tx.DiscardUnknownFields()
    if canonical(tx) != envelope.body:
        # One encoding per transaction: no unknown fields or alternative encodings can ride on
        # the ledger (a nonce smuggled in an unknown field would otherwise be signed and stored).
        raise DecodeError("transaction body is not in canonical form")
    return envelope, tx


@dataclass(frozen=True, slots=True)
class DecodedTx:
    """A transaction's envelope and body as `decode_signed_tx` accepted them, and its kind: what
    the state machine reads of it, for a caller that decodes a transaction once and hands the
    result on. Nothing here is checked beyond the form; the messages are never mutated."""

    envelope: election_pb2.SignedTx
    tx: election_pb2.Tx
    kind: str

    @classmethod
    def of(cls, raw: bytes) -> DecodedTx:
        """Raises DecodeError as `decode_signed_tx` does."""
        envelope, tx = decode_signed_tx(raw)
        return cls(envelope, tx, tx_kind(tx))

    @property
    def election_id(self) -> str:
        """The election it belongs to: every kind names one."""
        election_id: str = getattr(self.tx, self.kind).election_id
        return election_id


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        return False
    return True


def verify_signed_tx(chain_id: str, envelope: election_pb2.SignedTx, tx: election_pb2.Tx) -> None:
    message = tx_signing_bytes(chain_id, tx_kind(tx), envelope.body)
    if not verify_signature(envelope.signer, message, envelope.signature):
        raise SignatureError(f"bad signature on {tx_kind(tx)} transaction")


def tx_hash(raw: bytes) -> bytes:
    """A transaction's id (a ballot's tracking code): SHA-256 of the SignedTx bytes as submitted,
    which `decode_signed_tx` holds to the one canonical encoding of what the signer signed."""
    return sha256(raw)


def vote_signing_bytes(
    chain_id: str, vote_type: int, height: int, round_: int, validator: int, block_id: bytes
) -> bytes:
    if vote_type not in (ledger_pb2.PREVOTE, ledger_pb2.PRECOMMIT):
        raise ValueError(f"unknown vote type {vote_type}")
    if len(block_id) not in (0, BLOCK_ID_BYTES):
        raise ValueError(f"block id must be empty (nil) or {BLOCK_ID_BYTES} bytes")
    return (
        VOTE_DOMAIN
        + _chain(chain_id)
        + struct.pack(">BQII", vote_type, height, round_, validator)
        + bytes([len(block_id)])
        + block_id
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


def hello_signing_bytes(
    chain_id: str,
    validator: int,
    to: int,
    challenge: bytes,
    time_ms: int,
    protocol_version: int,
    genesis_hash: bytes,
) -> bytes:
    """What a dialler signs: who it is, whom it dials, the accepting side's fresh challenge, and
    the protocol and genesis it runs."""
    return (
        HELLO_DOMAIN
        + _chain(chain_id)
        + struct.pack(">IIqI", validator, to, time_ms, protocol_version)
        + len(genesis_hash).to_bytes(1, "big")
        + genesis_hash
        + challenge
    )


def block_id(header: ledger_pb2.BlockHeader) -> bytes:
    """A block is identified by the hash of its header; the header commits to the body."""
    return sha256(canonical(header))
