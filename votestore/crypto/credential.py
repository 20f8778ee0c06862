"""Voter credentials: a 32-byte personal secret (in the voter's link) yields, per election, an
Ed25519 signing key by HKDF-SHA256 bound to the election id. The roll holds only public keys, and
the same secret gives unrelated keys in two elections."""

from __future__ import annotations

from typing import Final

import nacl.signing
import nacl.utils
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CREDENTIAL_SECRET_BYTES: Final = 32
_SALT: Final = b"votestore/v1/credential/salt"
_INFO: Final = b"votestore/v1/credential/ed25519-seed/"


def new_credential() -> bytes:
    """A fresh voter secret from libsodium's randomness."""
    return nacl.utils.random(CREDENTIAL_SECRET_BYTES)


def derive_credential_key(secret: bytes, election_id: str) -> nacl.signing.SigningKey:
    if len(secret) != CREDENTIAL_SECRET_BYTES:
        raise ValueError(f"credential secret must be {CREDENTIAL_SECRET_BYTES} bytes")
    if not election_id:
        raise ValueError("election id must not be empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO + election_id.encode("utf-8"))
    return nacl.signing.SigningKey(hkdf.derive(secret))
