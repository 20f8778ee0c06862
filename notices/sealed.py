"""The queue at rest holds each message (which may carry a personal link) sealed.

One random data key per store, itself sealed under the operator's passphrase by
votestore.crypto.sealing (Argon2id + SecretBox) and kept in the store's meta table; each message
is a SecretBox under that key. Argon2id once per process, not once per message, keeps a campaign
of a million notices cheap; a stolen store file without the passphrase reads as noise.
"""

from __future__ import annotations

from typing import Final

import nacl.exceptions
import nacl.secret
import nacl.utils

from votestore.crypto.errors import SealError
from votestore.crypto.sealing import MODERATE, Argon2Limits, seal, unseal

DATA_KEY_BYTES: Final = nacl.secret.SecretBox.KEY_SIZE


class MessageBox:
    """Seals and opens queued messages under the store's data key."""

    def __init__(self, data_key: bytes) -> None:
        assert len(data_key) == DATA_KEY_BYTES
        self._box = nacl.secret.SecretBox(data_key)

    def seal(self, plain: bytes) -> bytes:
        return bytes(self._box.encrypt(plain))

    def open(self, sealed: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(sealed))
        except nacl.exceptions.CryptoError as e:
            raise SealError("a queued message does not open under this store's key") from e

    def __repr__(self) -> str:
        return "MessageBox(<key>)"


def new_sealed_data_key(passphrase: str, limits: Argon2Limits = MODERATE) -> tuple[bytes, bytes]:
    """(data key, its sealed blob for the store's meta table)."""
    key = nacl.utils.random(DATA_KEY_BYTES)
    return key, seal(key, passphrase, limits=limits)


def open_data_key(blob: bytes, passphrase: str) -> bytes:
    key = unseal(blob, passphrase)
    if len(key) != DATA_KEY_BYTES:
        raise SealError("the store's data key has the wrong size")
    return key
