"""Secrets at rest (trustee key shares and keys) sealed under a passphrase: Argon2id derives a
SecretBox key. The blob carries a magic, a version and the Argon2id limits it was made with, so
a later change of defaults still opens old blobs; limits read from a blob are bounded so a forged
blob cannot make unseal spend unbounded memory.

Layout: magic(4) | version(1) | opslimit(4, BE) | memlimit(8, BE) | salt(16) | SecretBox(nonce | ct).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from votestore.crypto.errors import SealError

MAGIC: Final = b"VSSL"
VERSION: Final = 1
SALT_BYTES: Final = nacl.pwhash.argon2id.SALTBYTES
_HEADER_BYTES: Final = len(MAGIC) + 1 + 4 + 8 + SALT_BYTES
MAX_OPSLIMIT: Final = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MAX_MEMLIMIT_BYTES: Final = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


@dataclass(frozen=True, slots=True)
class Argon2Limits:
    opslimit: int
    memlimit_bytes: int


MODERATE: Final = Argon2Limits(nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
INTERACTIVE: Final = Argon2Limits(
    nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
)


def _key(passphrase: str, salt: bytes, limits: Argon2Limits) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=limits.opslimit,
        memlimit=limits.memlimit_bytes,
    )


def seal(secret: bytes, passphrase: str, *, limits: Argon2Limits = MODERATE) -> bytes:
    """Encrypt a secret under a passphrase (MODERATE costs about a second; tests use INTERACTIVE)."""
    if not passphrase:
        raise ValueError("passphrase must not be empty")
    assert 0 < limits.opslimit <= MAX_OPSLIMIT and 0 < limits.memlimit_bytes <= MAX_MEMLIMIT_BYTES
    salt = nacl.utils.random(SALT_BYTES)
    header = (
        MAGIC
        + bytes([VERSION])
        + limits.opslimit.to_bytes(4, "big")
        + limits.memlimit_bytes.to_bytes(8, "big")
        + salt
    )
    box = nacl.secret.SecretBox(_key(passphrase, salt, limits))
    return header + bytes(box.encrypt(secret))


def unseal(blob: bytes, passphrase: str) -> bytes:
    """The sealed secret, or SealError saying whether the blob or the passphrase is wrong."""
    if len(blob) < _HEADER_BYTES + nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES:
        raise SealError("sealed blob too short")
    if blob[: len(MAGIC)] != MAGIC:
        raise SealError("not a votestore sealed blob")
    if blob[len(MAGIC)] != VERSION:
        raise SealError(f"sealed blob version {blob[len(MAGIC)]} unknown (this build reads {VERSION})")
    at = len(MAGIC) + 1
    limits = Argon2Limits(
        int.from_bytes(blob[at : at + 4], "big"), int.from_bytes(blob[at + 4 : at + 12], "big")
    )
    if not (0 < limits.opslimit <= MAX_OPSLIMIT and 0 < limits.memlimit_bytes <= MAX_MEMLIMIT_BYTES):
        raise SealError("sealed blob has out-of-bound Argon2id limits")
    salt = blob[at + 12 : _HEADER_BYTES]
    box = nacl.secret.SecretBox(_key(passphrase, salt, limits))
    try:
        return bytes(box.decrypt(blob[_HEADER_BYTES:]))
    except nacl.exceptions.CryptoError as e:
        raise SealError("wrong passphrase, or the sealed blob is damaged") from e
