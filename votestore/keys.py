"""Ed25519 key files for validators, admins, trustees, the credential authority and the
identity provider.

A key file is JSON holding the 32-byte seed in hex; it is written once with mode 0600 and never
printed. The public key is safe to show and goes into genesis or an election definition. A file
may name the role it was made for (`votestore keys gen --role`): a command that needs one role's
key then refuses another's, so an administrator's key is not used where the credential
authority's belongs by mistake (the ledger refuses it anyway).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

import nacl.signing

from votestore.errors import ConfigError

SEED_BYTES: Final = 32
KEY_FILE_MODE: Final = 0o600
ROLES: Final = ("validator", "admin", "trustee", "credential-authority", "identity-provider")


def new_signing_key() -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey.generate()


def write_key_file(
    path: Path, key: nacl.signing.SigningKey, *, overwrite: bool = False, role: str | None = None
) -> None:
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; refusing to overwrite a key file")
    assert role is None or role in ROLES, role
    document = {
        "type": "ed25519",
        "seed": bytes(key).hex(),
        "public_key": bytes(key.verify_key).hex(),
    }
    if role is not None:
        document["role"] = role
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
        handle.write("\n")


def read_key_file(path: Path, role: str | None = None) -> nacl.signing.SigningKey:
    """The key in `path`; with `role`, a file that names another role is refused."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"key file {path} not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"key file {path} unreadable: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "ed25519":
        raise ConfigError(f"key file {path} is not an ed25519 key file")
    try:
        seed = bytes.fromhex(str(document["seed"]))
    except (KeyError, ValueError):
        raise ConfigError(f"key file {path} has no valid hex seed") from None
    if len(seed) != SEED_BYTES:
        raise ConfigError(f"key file {path}: seed must be {SEED_BYTES} bytes")
    key = nacl.signing.SigningKey(seed)
    stated = document.get("public_key")
    if stated is not None and stated != bytes(key.verify_key).hex():
        raise ConfigError(f"key file {path}: public key does not match the seed")
    stated_role = document.get("role")
    if role is not None and stated_role is not None and stated_role != role:
        raise ConfigError(f"key file {path} is a {stated_role} key, not a {role} key")
    return key


def parse_public_key(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{what}: not hex") from None
    if len(raw) != SEED_BYTES:
        raise ConfigError(f"{what}: public key must be {SEED_BYTES} bytes, got {len(raw)}")
    return raw
