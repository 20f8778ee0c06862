"""The validator's signer seam, and Ed25519 checking for the consensus core and the handshake.

Everything in the node that signs — the consensus core's votes and proposals, the peer
handshake's Hello — holds a `Signer`, never a key. `LocalSigner` keeps the key in this process
(unsealed at start, votestore.key_files); a remote signer (an HSM, a KMS, a signing daemon on
another machine) is one more class with the same two members, chosen where node/main.py builds
the signer, without touching the core or the shell (docs/architecture.md, "Keys and the signer").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import nacl.signing

from node.consensus.signing import Signer as CoreSigner
from votestore.encoding import verify_signature


class Signer(CoreSigner, Protocol):
    """Ed25519 signatures by this validator's genesis key, wherever that key lives.

    `sign` is called on the node's event loop, synchronously, once per vote, proposal and
    handshake: an implementation must answer within milliseconds or raise; it is never handed
    anything but the protocol's signing bytes (votestore.encoding)."""

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key genesis names for this validator."""
        ...


class LocalSigner:
    """The key in this process's memory."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key
        self._public = bytes(key.verify_key)

    def __repr__(self) -> str:
        return f"LocalSigner(public_key={self._public.hex()})"

    @property
    def public_key(self) -> bytes:
        return self._public

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
