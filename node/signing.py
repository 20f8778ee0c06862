"""Ed25519 signing and checking for the consensus core and the peer handshake."""

from __future__ import annotations

from collections.abc import Sequence

import nacl.signing

from votestore.encoding import verify_signature


class Ed25519Signer:
    __slots__ = ("_key",)

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature


class GenesisVerifier:
    """Checks a signature against the genesis key of the validator it claims to be from."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._keys = tuple(keys)

    def verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self._keys):
            return False
        return verify_signature(self._keys[validator], message, signature)
