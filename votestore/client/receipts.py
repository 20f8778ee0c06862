"""Receipt files and their offline check: the voter's proof that the ballot is on the ledger.

A receipt file is the `Receipt` message in protobuf JSON (bytes in base64), readable by any
protobuf library. Checking needs only the genesis file: the block's commit certificate against
the genesis validators and the ballot's Merkle path to the block's transaction root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format

from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.encoding import decode_signed_tx
from votestore.errors import ConfigError, DecodeError
from votestore.genesis import Genesis
from votestore.receipts import ProofInvalid, verify_tx_proof


@dataclass(frozen=True, slots=True)
class CheckedReceipt:
    tracking_code: bytes
    election_id: str
    height: int
    result: election_pb2.TxResult | None
    """Set when the next block certifies the result; None when only inclusion is proven yet."""


def receipt_to_json(receipt: ledger_pb2.Receipt) -> str:
    return json_format.MessageToJson(receipt, sort_keys=True) + "\n"


def write_receipt(path: Path, receipt: ledger_pb2.Receipt) -> None:
    path.write_text(receipt_to_json(receipt), encoding="utf-8")


def read_receipt(path: Path) -> ledger_pb2.Receipt:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"receipt file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"receipt file {path} unreadable: {exc}") from None
    try:
        return json_format.Parse(text, ledger_pb2.Receipt())
    except json_format.ParseError as exc:
        raise ConfigError(f"receipt file {path} is not a receipt: {exc}") from None


def check_receipt(
    genesis: Genesis, receipt: ledger_pb2.Receipt, *, require_result: bool = False
) -> CheckedReceipt:
    """Raise ProofInvalid unless the receipt proves its ballot was committed on this chain."""
    proof = receipt.proof
    if receipt.tracking_code != proof.tx_hash:
        raise ProofInvalid("tracking code does not match the proof")
    if not proof.HasField("header"):
        raise ProofInvalid("receipt holds no committed block (ballot still pending?)")
    verify_tx_proof(genesis, proof, require_result=require_result)
    try:
        _, tx = decode_signed_tx(proof.tx)
    except DecodeError as exc:
        raise ProofInvalid(f"the committed transaction does not decode: {exc}") from None
    if not tx.HasField("ballot"):
        raise ProofInvalid("the committed transaction is not a ballot")
    if receipt.election_id and tx.ballot.election_id != receipt.election_id:
        raise ProofInvalid("the ballot is for another election than the receipt says")
    certified = proof.HasField("next_header")
    return CheckedReceipt(
        tracking_code=receipt.tracking_code,
        election_id=tx.ballot.election_id,
        height=proof.header.height,
        result=proof.result if certified else None,
    )
