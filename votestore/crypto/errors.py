"""Errors the crypto layer raises on purpose; each carries a short reason that names no secret."""

from __future__ import annotations

from votestore.errors import VotestoreError


class CryptoError(VotestoreError):
    """Base of the crypto errors; `reason` is safe to log and to put in a transaction result."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BallotInvalid(CryptoError):
    """A ballot that fails its structure checks or any of its proofs."""


class DealInvalid(CryptoError):
    """A key-generation deal whose form is wrong (counts, recipients, sizes, points)."""


class ShareInvalid(CryptoError):
    """A dealt share that does not decrypt or does not match the dealer's commitments."""


class ComplaintInvalid(CryptoError):
    """A complaint whose form or whose Diffie-Hellman proof is wrong."""


class DecryptionFailed(CryptoError):
    """Threshold decryption that cannot produce a count (too few shares, bad shares, out of bound)."""


class SealError(CryptoError):
    """A sealed secret that cannot be opened: wrong passphrase, damaged or unknown blob."""
