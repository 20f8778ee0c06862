"""Ed25519 key files for validators, admins and trustees.

A key file is JSON holding the 32-byte seed in hex; it is written once with mode 0600 and never
printed. The public key is safe to show and goes into genesis or an election definition.
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


def new_signing_key() -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey.generate()


def write_key_file(path: Path, key: nacl.signing.SigningKey, *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; refusing to overwrite a key file")
    document = {
        "type": "ed25519",
        "seed": bytes(key).hex(),
        "public_key": bytes(key.verify_key).hex(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
        handle.write("\n")


def read_key_file(path: Path) -> nacl.signing.SigningKey:
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
    return key


def parse_public_key(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{what}: not hex") from None
    if len(raw) != SEED_BYTES:
        raise ConfigError(f"{what}: public key must be {SEED_BYTES} bytes, got {len(raw)}")
    return raw
