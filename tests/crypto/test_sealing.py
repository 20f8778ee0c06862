"""Sealed secrets: round trip, wrong passphrase, damaged or foreign blobs."""

from __future__ import annotations

import pytest

from votestore.crypto import sealing
from votestore.crypto.errors import SealError

SECRET = bytes(range(68))


@pytest.fixture(scope="module")
def blob() -> bytes:
    return sealing.seal(SECRET, "correct horse", limits=sealing.INTERACTIVE)


def test_round_trip(blob: bytes) -> None:
    assert sealing.unseal(blob, "correct horse") == SECRET
    assert SECRET not in blob


def test_wrong_passphrase_says_so(blob: bytes) -> None:
    with pytest.raises(SealError, match="wrong passphrase"):
        sealing.unseal(blob, "correct horsE")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: b[:20], "too short"),
        (lambda b: b"XXXX" + b[4:], "not a votestore"),
        (lambda b: b[:4] + b"\x02" + b[5:], "version 2"),
        (lambda b: b[:5] + b"\xff\xff\xff\xff" + b[9:], "out-of-bound"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "damaged"),
        (lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:], "damaged"),  # a salt byte
    ],
)
def test_damaged_blob_is_refused(blob: bytes, change: object, reason: str) -> None:
    assert callable(change)
    with pytest.raises(SealError, match=reason):
        sealing.unseal(change(blob), "correct horse")


def test_empty_passphrase_is_refused() -> None:
    with pytest.raises(ValueError):
        sealing.seal(SECRET, "", limits=sealing.INTERACTIVE)
