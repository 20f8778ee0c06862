"""Signers and verifiers for simulation: a fast keyed hash, and real Ed25519 for one check.

The fake scheme is still unforgeable inside the simulation: a Byzantine node holds only its own
secret, so it cannot produce another validator's tag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

import nacl.exceptions
import nacl.signing

FAKE_TAG_BYTES: Final = 16


def _secret(seed: int, validator: int) -> bytes:
    return hashlib.sha256(f"votestore-sim/{seed}/{validator}".encode()).digest()


@dataclass(frozen=True, slots=True)
class FakeSigner:
    secret: bytes

    def sign(self, message: bytes) -> bytes:
        return hashlib.blake2b(message, key=self.secret, digest_size=FAKE_TAG_BYTES).digest()


@dataclass(frozen=True, slots=True)
class FakeVerifier:
    secrets: tuple[bytes, ...]

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self.secrets):
            return False
        tag = hashlib.blake2b(message, key=self.secrets[validator], digest_size=FAKE_TAG_BYTES).digest()
        return tag == signature


def fake_keys(seed: int, size: int) -> tuple[list[FakeSigner], FakeVerifier]:
    secrets = tuple(_secret(seed, validator) for validator in range(size))
    return [FakeSigner(secret) for secret in secrets], FakeVerifier(secrets)


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    key: nacl.signing.SigningKey

    def sign(self, message: bytes) -> bytes:
        return bytes(self.key.sign(message).signature)


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    keys: tuple[nacl.signing.VerifyKey, ...]

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self.keys):
            return False
        try:
            self.keys[validator].verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
            return False
        return True


def ed25519_keys(seed: int, size: int) -> tuple[list[Ed25519Signer], Ed25519Verifier]:
    """Deterministic keys from the seed: simulation only, never for a real validator."""
    keys = [nacl.signing.SigningKey(_secret(seed, validator)) for validator in range(size)]
    return [Ed25519Signer(key) for key in keys], Ed25519Verifier(tuple(k.verify_key for k in keys))
