"""A trustee's key file: its public keys in the clear (to paste into an election definition) and
its secrets (Ed25519 seed, X25519-style enc secret) sealed under a passphrase (Argon2id +
SecretBox, votestore.crypto.sealing).

Written once with mode 0600, never overwritten: losing the file or the passphrase loses that
trustee's share; overwriting it would do the same silently. The public part is checked against the
unsealed secrets on every open, so a file whose halves were swapped is refused.

JSON layout: {"type": "votestore-trustee", "version": 1, "name", "sign_key", "enc_key", "sealed"}
with keys and the sealed blob in hex.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.signing

from proto.votestore.v1 import election_pb2
from votestore.crypto import dkg, group, sealing
from votestore.errors import ConfigError, DecodeError
from votestore.keys import read_bounded

FILE_TYPE: Final = "votestore-trustee"
FILE_VERSION: Final = 1
FILE_MODE: Final = 0o600
MAX_FILE_BYTES: Final = 64 * 1024
MAX_NAME_BYTES: Final = 128


@dataclass(frozen=True, slots=True)
class TrusteeKeys:
    """An opened key file: the public record and the secrets (index 0: keys are not per election)."""

    public: election_pb2.Trustee
    secrets: dkg.TrusteeSecrets

    def __post_init__(self) -> None:
        assert bytes(self.signing_key.verify_key) == self.public.sign_key
        assert group.base_mult(group.decode_scalar(self.secrets.enc_secret)) == self.public.enc_key

    def __repr__(self) -> str:
        return f"TrusteeKeys(name={self.public.name!r}, <secret>)"

    @property
    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.secrets.sign_seed)


def write_trustee_file(
    path: Path, name: str, passphrase: str, *, limits: sealing.Argon2Limits = sealing.MODERATE
) -> election_pb2.Trustee:
    """Make fresh trustee keys, seal them into a new file at `path`, return the public record."""
    if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ConfigError(f"trustee name must be 1..{MAX_NAME_BYTES} bytes")
    if not passphrase:
        raise ConfigError("the passphrase must not be empty")
    if path.exists():
        raise ConfigError(f"{path} exists; refusing to overwrite a trustee key file")
    secrets, public = dkg.new_trustee(name)
    document = {
        "type": FILE_TYPE,
        "version": FILE_VERSION,
        "name": name,
        "sign_key": public.sign_key.hex(),
        "enc_key": public.enc_key.hex(),
        "sealed": sealing.seal(secrets.to_bytes(), passphrase, limits=limits).hex(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return public


def _read_document(path: Path) -> dict[str, object]:
    raw = read_bounded(path, MAX_FILE_BYTES, "trustee key file")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConfigError(f"trustee key file {path} is not JSON") from None
    if not isinstance(document, dict) or document.get("type") != FILE_TYPE:
        raise ConfigError(f"{path} is not a votestore trustee key file")
    if document.get("version") != FILE_VERSION:
        raise ConfigError(f"trustee key file {path}: version {document.get('version')} unknown")
    return document


def _hex_field(path: Path, document: dict[str, object], field: str) -> bytes:
    try:
        return bytes.fromhex(str(document[field]))
    except (KeyError, ValueError):
        raise ConfigError(f"trustee key file {path}: field {field!r} missing or not hex") from None


def read_trustee_public(path: Path) -> election_pb2.Trustee:
    """The public record (name, sign_key, enc_key); needs no passphrase."""
    document = _read_document(path)
    return election_pb2.Trustee(
        name=str(document.get("name", "")),
        sign_key=_hex_field(path, document, "sign_key"),
        enc_key=_hex_field(path, document, "enc_key"),
    )


def open_trustee_file(path: Path, passphrase: str) -> TrusteeKeys:
    """Unseal the secrets; SealError on a wrong passphrase, ConfigError if the halves disagree."""
    public = read_trustee_public(path)
    sealed = _hex_field(path, _read_document(path), "sealed")
    try:
        secrets = dkg.TrusteeSecrets.from_bytes(sealing.unseal(sealed, passphrase))
    except DecodeError:
        raise ConfigError(f"trustee key file {path}: sealed secrets have the wrong size") from None
    signing = nacl.signing.SigningKey(secrets.sign_seed)
    enc_public = group.base_mult(group.decode_scalar(secrets.enc_secret))
    if bytes(signing.verify_key) != public.sign_key or enc_public != public.enc_key:
        raise ConfigError(f"trustee key file {path}: public keys do not match the sealed secrets")
    return TrusteeKeys(public, secrets)
