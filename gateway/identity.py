"""The gateway's identity store: per voter, a salted Argon2id hash of the second factor.

Assisted casting takes the voter's credential secret over the wire, so a stolen personal link
alone must not be enough: the gateway also asks for a second factor given at roll import (a birth
date, a code from a letter) and checks it against this store. The ledger never sees it.

File format (UTF-8 text, one record a line, sorted by key so equal stores are equal files):

    votestore-identity-store v1
    <credential public key, 64 hex digits> <Argon2id string: $argon2id$v=19$m=..,t=..,p=1$salt$hash>

The Argon2id string carries its own random salt and cost, so entries written with different costs
check alike. The file is written atomically with mode 0600: a second factor such as a birth date
has little entropy, so the hashes must stay private even though each costs an attacker Argon2id.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.exceptions
import nacl.pwhash.argon2id

from votestore.errors import ConfigError

HEADER: Final = "votestore-identity-store v1"
PUBLIC_KEY_BYTES: Final = 32
MAX_SECOND_FACTOR_BYTES: Final = 256
STORE_FILE_MODE: Final = 0o600
ARGON2ID_PREFIX: Final = "$argon2id$"


@dataclass(frozen=True, slots=True)
class Argon2Cost:
    """Argon2id work per hash: `ops` passes over `memory_bytes` of memory."""

    ops: int
    memory_bytes: int

    def __post_init__(self) -> None:
        assert self.ops >= nacl.pwhash.argon2id.OPSLIMIT_MIN, self.ops
        assert self.memory_bytes >= nacl.pwhash.argon2id.MEMLIMIT_MIN, self.memory_bytes


DEFAULT_COST: Final = Argon2Cost(ops=2, memory_bytes=19 * 1024 * 1024)
"""OWASP's Argon2id floor (m = 19 MiB, t = 2, p = 1): about 30 ms a hash on one core."""
HASH_THREADS: Final = os.cpu_count() or 1
"""A roll's second factors are hashed on every core: 30 ms each, 100,000 voters are 50 core-minutes."""
MINIMUM_COST: Final = Argon2Cost(ops=nacl.pwhash.argon2id.OPSLIMIT_MIN, memory_bytes=8192)
"""For tests only: keeps a roll of a hundred voters quick to import."""


def normalise_second_factor(text: str) -> bytes:
    """Unicode NFKC, case-folded, runs of white space made one space, trimmed: what the voter
    types at a kiosk ("1980-05-17 ", "ＡＢ12") matches what the roll import wrote."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    raw = folded.encode("utf-8")
    if not raw:
        raise ValueError("second factor is empty")
    if len(raw) > MAX_SECOND_FACTOR_BYTES:
        raise ValueError(f"second factor exceeds {MAX_SECOND_FACTOR_BYTES} bytes")
    return raw


def hash_second_factor(second_factor: str, cost: Argon2Cost = DEFAULT_COST) -> str:
    encoded: bytes = nacl.pwhash.argon2id.str(
        normalise_second_factor(second_factor), opslimit=cost.ops, memlimit=cost.memory_bytes
    )
    return encoded.decode("ascii")


def _parse(path: Path, text: str) -> dict[bytes, str]:
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        raise ConfigError(f"identity store {path}: first line must be {HEADER!r}")
    entries: dict[bytes, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split(" ")
        if len(parts) != 2 or not parts[1].startswith(ARGON2ID_PREFIX):
            raise ConfigError(f"identity store {path}:{number}: expected '<key hex> $argon2id$...'")
        try:
            key = bytes.fromhex(parts[0])
        except ValueError:
            raise ConfigError(f"identity store {path}:{number}: key is not hex") from None
        if len(key) != PUBLIC_KEY_BYTES:
            raise ConfigError(f"identity store {path}:{number}: key must be {PUBLIC_KEY_BYTES} bytes")
        if key in entries:
            raise ConfigError(f"identity store {path}:{number}: key {parts[0]} appears twice")
        entries[key] = parts[1]
    return entries


def read_identity_entries(path: Path) -> dict[bytes, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"identity store {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"identity store {path} unreadable: {exc}") from None
    return _parse(path, text)


def write_identity_store(
    path: Path, entries: Iterable[tuple[bytes, str]], *, cost: Argon2Cost = DEFAULT_COST
) -> int:
    """Add (credential public key, second factor) pairs to the store at `path`, creating it if
    absent; a key already present gets the new hash. Written whole to a temporary file and renamed,
    so a reader never sees half a store. Returns the number of entries now in the store.

    Called by `votestore roll import` with the same public keys it puts on the ledger.
    """
    merged = read_identity_entries(path) if path.exists() else {}
    pairs = list(entries)
    for key, _ in pairs:
        if len(key) != PUBLIC_KEY_BYTES:
            raise ValueError(f"credential public key must be {PUBLIC_KEY_BYTES} bytes, got {len(key)}")
    # libsodium's Argon2id runs without the GIL (cffi releases it): one thread per core.
    with ThreadPoolExecutor(max_workers=max(1, min(HASH_THREADS, len(pairs)))) as pool:
        hashes = list(pool.map(lambda pair: hash_second_factor(pair[1], cost), pairs))
    for (key, _), hashed in zip(pairs, hashes, strict=True):
        merged[key] = hashed
    body = "".join(f"{key.hex()} {merged[key]}\n" for key in sorted(merged))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, STORE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(HEADER + "\n" + body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(merged)


def verify_second_factor(encoded: str, second_factor: str) -> bool:
    """Argon2id check (CPU- and memory-heavy: run it off the event loop)."""
    try:
        candidate = normalise_second_factor(second_factor)
    except ValueError:
        return False
    try:
        return bool(nacl.pwhash.argon2id.verify(encoded.encode("ascii"), candidate))
    except nacl.exceptions.InvalidkeyError:
        return False


class IdentityStore:
    """The loaded store; reloads itself when the file changes (a roll import while running)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[bytes, str] = {}
        self.reload_if_changed()

    def _file_stamp(self) -> tuple[int, int]:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            raise ConfigError(f"identity store {self._path} not found") from None
        return stat.st_mtime_ns, stat.st_size

    def reload_if_changed(self) -> None:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._entries = read_identity_entries(self._path)
            self._stamp = stamp

    def hash_for(self, credential_public_key: bytes) -> str | None:
        """The stored Argon2id string, or None for a key the roll import never wrote."""
        return self._entries.get(credential_public_key)

    def __len__(self) -> int:
        return len(self._entries)
