"""Voter credentials: stable per (secret, election), bound to the election."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from votestore.crypto.credential import derive_credential_key, new_credential

SECRET = bytes(range(32))
# Regression vector: a change here changes every voter's key in the roll.
EXPECTED_PUBLIC = "64788ad570299257da5db19702e4d622573c5e7bcde56d33271f75ee8ff6bdc0"


def _rfc5869_seed(secret: bytes, election_id: str) -> bytes:
    """HKDF-SHA256 written out from RFC 5869 (one output block), as docs/crypto.md specifies."""
    prk = hmac.new(b"votestore/v1/credential/salt", secret, hashlib.sha256).digest()
    info = b"votestore/v1/credential/ed25519-seed/" + election_id.encode()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_derivation_is_stable() -> None:
    a = derive_credential_key(SECRET, "e-1")
    b = derive_credential_key(SECRET, "e-1")
    assert bytes(a) == bytes(b)
    assert bytes(a) == _rfc5869_seed(SECRET, "e-1")
    assert bytes(a.verify_key).hex() == EXPECTED_PUBLIC


@pytest.mark.parametrize("other", ["e-2", "e-1 ", "E-1", "e-"])
def test_derivation_is_bound_to_the_election(other: str) -> None:
    assert bytes(derive_credential_key(SECRET, "e-1").verify_key) != bytes(
        derive_credential_key(SECRET, other).verify_key
    )


def test_new_credentials_differ_and_sign() -> None:
    a, b = new_credential(), new_credential()
    assert a != b and len(a) == 32
    key = derive_credential_key(a, "e-1")
    key.verify_key.verify(key.sign(b"ballot"))


@pytest.mark.parametrize(
    ("secret", "election_id"), [(b"\x00" * 31, "e-1"), (b"\x00" * 33, "e-1"), (SECRET, "")]
)
def test_bad_inputs_are_refused(secret: bytes, election_id: str) -> None:
    with pytest.raises(ValueError):
        derive_credential_key(secret, election_id)
