"""The identity provider's attestation: "this voter passed the identity check, for this ballot".

A ballot counts only with two signatures from two parties (docs/roles.md): the voter's credential
key (drawn by the credential authority, held by the voter) over the whole transaction, and the
election's identity provider over a statement naming the chain, the election, the voter's
credential key and the hash of the ballot body. So neither party alone can cast: the credential
authority lacks the attestation, the identity provider the credential. Binding the voter key and
the body makes an attestation good for one ballot of one voter: replayed onto another voter's
ballot or another body, it fails.

The body hashed is the Ballot with `attestation` empty, in canonical form: the attestation cannot
cover itself, and the credential signature (over the Tx that holds the Ballot with its attestation)
then covers both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import nacl.signing

from proto.votestore.v1 import election_pb2
from votestore.crypto.transcript import frame
from votestore.encoding import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, canonical, verify_signature
from votestore.hashing import sha256

ATTESTATION_DOMAIN: Final = b"votestore/v1/identity-attestation"
REQUEST_DOMAIN: Final = b"votestore/v1/attestation-request"
BALLOT_DIGEST_DOMAIN: Final = b"votestore/v1/attested-ballot"
ATTESTATION_BYTES: Final = SIGNATURE_BYTES

Attester = Callable[[bytes, bytes], bytes]
"""(voter credential public key, ballot digest) -> attestation: a local identity-provider key in
tests and tools (`local_attester`), or the identity provider's `Attest` call in a client."""


def ballot_digest(body: election_pb2.Ballot) -> bytes:
    """SHA-256 of the framed canonical Ballot with its attestation left empty."""
    bare = election_pb2.Ballot()
    bare.CopyFrom(body)
    bare.ClearField("attestation")
    return sha256(frame(BALLOT_DIGEST_DOMAIN, canonical(bare)))


def message(chain_id: str, election_id: str, voter: bytes, digest: bytes) -> bytes:
    """What the identity provider signs: every part length-prefixed after a constant domain."""
    return frame(ATTESTATION_DOMAIN, chain_id, election_id, voter, digest)


def sign(key: nacl.signing.SigningKey, chain_id: str, election_id: str, voter: bytes, digest: bytes) -> bytes:
    """The identity provider's attestation. Call only after the voter passed the identity check."""
    assert len(voter) == PUBLIC_KEY_BYTES, len(voter)
    signature: bytes = key.sign(message(chain_id, election_id, voter, digest)).signature
    return signature


def request_message(chain_id: str, election_id: str, digest: bytes) -> bytes:
    """What the voter's credential key signs when asking for an attestation: the identity
    provider then spends a voter's allowance of failed checks only on a credential holder's asks
    (the roll's public keys are public; a stranger must not lock a voter out)."""
    return frame(REQUEST_DOMAIN, chain_id, election_id, digest)


def sign_request(
    credential_key: nacl.signing.SigningKey, chain_id: str, election_id: str, digest: bytes
) -> bytes:
    signature: bytes = credential_key.sign(request_message(chain_id, election_id, digest)).signature
    return signature


def request_signed(voter: bytes, chain_id: str, election_id: str, digest: bytes, signature: bytes) -> bool:
    return verify_signature(voter, request_message(chain_id, election_id, digest), signature)


def local_attester(key: nacl.signing.SigningKey, chain_id: str, election_id: str) -> Attester:
    """An `Attester` over an identity-provider key at hand (tests, benchmarks, the demo's IdP)."""

    def attest(voter: bytes, digest: bytes) -> bytes:
        return sign(key, chain_id, election_id, voter, digest)

    return attest


def problem(identity_provider: bytes, chain_id: str, voter: bytes, body: election_pb2.Ballot) -> str | None:
    """Why `body`, cast by credential key `voter`, lacks a valid attestation by the election's
    identity provider; None when it has one. One Ed25519 verification: microseconds next to the
    ballot's proofs, so it runs before them."""
    if not body.attestation:
        return "ballot carries no identity-provider attestation"
    if len(body.attestation) != ATTESTATION_BYTES:
        return f"attestation must be {ATTESTATION_BYTES} bytes"
    signed = message(chain_id, body.election_id, voter, ballot_digest(body))
    if not verify_signature(identity_provider, signed, body.attestation):
        return "attestation is not the identity provider's for this voter and this ballot"
    return None
