"""Ed25519 key files for validators, admins, trustees, the credential authority and the
identity provider.

A key file is JSON, written once with mode 0600 and never printed. It holds the 32-byte seed
either sealed under a passphrase (`"sealed"`: Argon2id + SecretBox, votestore.crypto.sealing, the
one sealing trustee key files and the notice queue use too) or, for tests and demos only, in hex
(`"seed"`). The public key is in the clear in both, safe to show; it goes into genesis or an
election definition. A file may name the role it was made for (`votestore keys gen --role`): a
command that needs one role's key then refuses another's, so an administrator's key is not used
where the credential authority's belongs by mistake (the ledger refuses it anyway).

Who opens a key says where its passphrase comes from and whether an unsealed file is allowed
(`KeyUnlock`): a process refuses an unsealed key unless its config says so explicitly, and then
logs a warning naming the file. A process's config says it with the settings of
votestore.sealed_key.SealedKey, the one definition the node's, the gateway's and the identity
provider's configs share. No passphrase and no seed is ever logged or printed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.signing

from votestore.crypto import sealing
from votestore.crypto.errors import SealError
from votestore.errors import ConfigError

log = logging.getLogger("votestore.keys")

SEED_BYTES: Final = 32
KEY_FILE_MODE: Final = 0o600
ROLES: Final = ("validator", "admin", "trustee", "credential-authority", "identity-provider")
MAX_KEY_FILE_BYTES: Final = 16 * 1024
MAX_PASSPHRASE_FILE_BYTES: Final = 4096


def new_signing_key() -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey.generate()


def write_key_file(
    path: Path,
    key: nacl.signing.SigningKey,
    *,
    overwrite: bool = False,
    role: str | None = None,
    passphrase: str | None = None,
    limits: sealing.Argon2Limits = sealing.MODERATE,
) -> None:
    """Write `key` to `path` (mode 0600), sealed under `passphrase`, or unsealed when it is None
    (tests and demos: a process opens such a file only when its config allows it)."""
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; refusing to overwrite a key file")
    assert role is None or role in ROLES, role
    document = {"type": "ed25519", "public_key": bytes(key.verify_key).hex()}
    if passphrase is None:
        document["seed"] = bytes(key).hex()
    else:
        if not passphrase:
            raise ConfigError("the passphrase is empty")
        document["sealed"] = sealing.seal(bytes(key), passphrase, limits=limits).hex()
    if role is not None:
        document["role"] = role
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_bounded(path: Path, max_bytes: int, what: str) -> bytes:
    """A small secret-bearing file's bytes, read no further than `max_bytes` (a file that is not
    what it should be cannot make us read gigabytes); one ConfigError line naming `what`."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} unreadable: {exc.strerror}") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"{what} {path} exceeds {max_bytes} bytes")
    return raw


def _document(path: Path) -> dict[str, object]:
    raw = read_bounded(path, MAX_KEY_FILE_BYTES, "key file")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"key file {path} unreadable: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "ed25519":
        raise ConfigError(f"key file {path} is not an ed25519 key file")
    return document


def is_sealed(path: Path) -> bool:
    """Whether the key file holds its seed sealed (raises ConfigError if it is no key file)."""
    return "sealed" in _document(path)


def read_public_key(path: Path) -> bytes:
    """The public key of a key file, sealed or not; needs no passphrase."""
    document = _document(path)
    if "sealed" not in document:
        return bytes(read_key_file(path, unlock=PLAINTEXT_QUIETLY).verify_key)
    return parse_public_key(str(document.get("public_key", "")), f"key file {path}")


@dataclass(frozen=True, slots=True)
class KeyUnlock:
    """How a process opens its key files: where a sealed file's passphrase comes from, and
    whether an unsealed file is allowed (an explicit setting: tests and demos)."""

    passphrase: Callable[[], str] | None = None
    """Called once per sealed file; None: sealed files cannot be opened (say how to give one)."""
    plaintext_ok: bool = False
    where: str = "set a passphrase source"
    """What to tell the operator when a passphrase or permission is missing."""
    warn: bool = True
    """Log a warning when an unsealed file is opened (always, but for reading a public key)."""


PLAINTEXT_QUIETLY: Final = KeyUnlock(plaintext_ok=True, warn=False)


def passphrase_from(file: Path | None = None, env: str | None = None) -> Callable[[], str] | None:
    """A passphrase source: the file (one trailing newline dropped) or the named environment
    variable; None when neither is given."""
    if file is not None:
        return lambda: _read_passphrase_file(file)
    if env is not None:
        return lambda: _read_passphrase_env(env)
    return None


def _read_passphrase_file(path: Path) -> str:
    raw = read_bounded(path, MAX_PASSPHRASE_FILE_BYTES, "passphrase file")
    try:
        text = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        raise ConfigError(f"passphrase file {path} is not UTF-8") from None
    if not text:
        raise ConfigError(f"passphrase file {path} is empty")
    return text


def _read_passphrase_env(name: str) -> str:
    text = os.environ.get(name, "")
    if not text:
        raise ConfigError(f"environment variable {name} (the key's passphrase) is not set or empty")
    return text


def read_key_file(path: Path, role: str | None = None, *, unlock: KeyUnlock) -> nacl.signing.SigningKey:
    """The key in `path`, unsealed with `unlock`'s passphrase; an unsealed file only when
    `unlock` allows it. With `role`, a file that names another role is refused."""
    document = _document(path)
    stated_role = document.get("role")
    if role is not None and stated_role is not None and stated_role != role:
        raise ConfigError(f"key file {path} is a {stated_role} key, not a {role} key")
    if "sealed" in document:
        if unlock.passphrase is None:
            raise ConfigError(f"key file {path} is sealed: {unlock.where}")
        try:
            seed = sealing.unseal(bytes.fromhex(str(document["sealed"])), unlock.passphrase())
        except ValueError:
            raise ConfigError(f"key file {path}: sealed seed is not hex") from None
        except SealError as exc:
            raise ConfigError(f"key file {path}: {exc}") from None
    else:
        if not unlock.plaintext_ok:
            raise ConfigError(
                f"key file {path} is not sealed: seal it (`votestore keys seal {path}`) and {unlock.where}"
            )
        try:
            seed = bytes.fromhex(str(document["seed"]))
        except (KeyError, ValueError):
            raise ConfigError(f"key file {path} has no valid hex seed") from None
        if unlock.warn:
            log.warning("event=unsealed_key file=%s note=for tests and demos only", path)
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
