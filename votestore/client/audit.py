"""The check of an audited ballot (Benaloh's cast-or-audit): a second implementation, in Python,
of what the voter's page did in JavaScript, so that a page that encrypted something other than
what it showed is caught by code it did not serve.

An audit record (`kind` AUDIT_KIND, JSON, written by the page's "audit this ballot") holds the
encrypted ballot exactly as it would have been signed, every selection nonce, and the choices the
page showed. The check: every proof holds for this voter's key (`verify_ballot`); every
ciphertext is, for its revealed nonce r, exactly (g^r, g^m·K^r) with m 0 or 1, recomputed here
from the group operations; and the choices so recovered are the choices shown. An audited
ballot carries no attestation and no signature: it can never be cast, and the voter makes a
fresh one (new nonces) to cast.

What it does not check: that the election key and definition in the record are the ledger's.
Compare `election_key` with the validators' GetElection before trusting a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from google.protobuf.message import DecodeError as ProtoDecodeError

from proto.votestore.v1 import election_pb2
from votestore.crypto import group
from votestore.crypto.ballot import verify_ballot
from votestore.crypto.errors import BallotInvalid
from votestore.crypto.opening import opened_value
from votestore.errors import ConfigError, DecodeError, VotestoreError

AUDIT_KIND: Final = "votestore-audited-ballot/v1"
MAX_AUDIT_FILE_BYTES: Final = 4 * 1024 * 1024


class AuditFailed(VotestoreError):
    """The audited ballot does not encrypt the choices it claims (or does not verify)."""


@dataclass(frozen=True, slots=True)
class AuditedBallot:
    election_id: str
    choices: dict[str, list[str]]
    """Per contest id, the choice ids the ciphertexts encrypt (recovered here, not read)."""


def _hex(document: dict[str, Any], name: str) -> bytes:
    value = document.get(name)
    if not isinstance(value, str):
        raise ConfigError(f"audit record: '{name}' missing or not text")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ConfigError(f"audit record: '{name}' is not hex") from None


def read_audit(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_AUDIT_FILE_BYTES:
            raise ConfigError(f"audit file {path} is over {MAX_AUDIT_FILE_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"audit file {path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"audit file {path} unreadable: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != AUDIT_KIND:
        raise ConfigError(f"audit file {path} is not a {AUDIT_KIND} record")
    return document


def _nonces(document: dict[str, Any], definition: election_pb2.ElectionCreate) -> list[list[int]]:
    rows = document.get("nonces")
    shape = [len(c.choices) for c in definition.contests]
    if not isinstance(rows, list) or [len(r) if isinstance(r, list) else -1 for r in rows] != shape:
        raise ConfigError("audit record: 'nonces' must hold one nonce per choice of every contest")
    try:
        return [[group.decode_scalar(bytes.fromhex(n)) for n in row] for row in rows]
    except (ValueError, TypeError, DecodeError) as exc:
        raise ConfigError(f"audit record: a nonce is not a canonical scalar: {exc}") from None


def check_audit(document: dict[str, Any]) -> AuditedBallot:
    """Raise AuditFailed unless the record's ballot verifies and encrypts, nonce by nonce, exactly
    the choices the record shows; ConfigError if the record is malformed."""
    election_id = document.get("election_id")
    if not isinstance(election_id, str) or not election_id:
        raise ConfigError("audit record: 'election_id' missing")
    key = _hex(document, "election_key")
    voter = _hex(document, "voter")
    try:
        definition = election_pb2.ElectionCreate.FromString(_hex(document, "definition"))
        ballot = election_pb2.Ballot.FromString(_hex(document, "ballot"))
    except ProtoDecodeError:
        raise ConfigError("audit record: 'definition' or 'ballot' does not decode") from None
    if ballot.attestation:
        raise AuditFailed("the audited ballot carries an attestation: it was meant to be cast")
    try:
        verify_ballot(election_id, definition, key, ballot, voter=voter)
    except (BallotInvalid, DecodeError) as exc:
        raise AuditFailed(f"the ballot does not verify: {exc}") from None
    nonces = _nonces(document, definition)
    recovered: dict[str, list[str]] = {}
    for contest, encrypted, row in zip(definition.contests, ballot.contests, nonces, strict=True):
        chosen = []
        for choice, ct, r in zip(contest.choices, encrypted.selections, row, strict=True):
            value = opened_value(key, ct, r)
            if value is None:
                raise AuditFailed(
                    f"{contest.id}/{choice.id}: the nonce does not open this ciphertext to 0 or 1"
                )
            if value:
                chosen.append(choice.id)
        recovered[contest.id] = chosen
    shown = document.get("choices")
    if shown != recovered:
        raise AuditFailed(f"the ballot encrypts {recovered}, the page showed {shown}")
    return AuditedBallot(election_id, recovered)
