"""The identity provider's step: check a voter's second factor, then attest one ballot digest for
that voter with the identity provider's own key (docs/roles.md).

It is a role of its own — its key is named in the election definition and held by no other role
— served by its own process (`votestore identity-provider run`, gateway/identity_server.py), or
beside the gateway when the gateway's config names the key (then the gateway operator holds the
provider's power too: docs/roles.md). It sees the voter's
credential public key and the hash of an encrypted ballot: never the credential secret nor the
choices (except in assisted casting, which hands the gateway everything; docs/gateway.md).
Its store (credential public key -> Argon2id hash of the second factor) comes from the credential
authority, which keeps the secrets.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import nacl.signing

from gateway.elections import check_election_id
from gateway.errors import Refusal
from gateway.identity import IdentityStore, verify_second_factor
from gateway.limits import KeyedLimiter
from proto.votestore.v1 import identity_pb2
from votestore.crypto import attestation
from votestore.encoding import PUBLIC_KEY_BYTES
from votestore.hashing import HASH_BYTES

MAX_IDENTITY_CHECK_CHARS: Final = 256
FAILED_CHECKS_REFUSAL: Final = "too many failed identity checks for this voter; try later"
"""RESOURCE_EXHAUSTED's message when a voter key has spent its failed checks. The voter page tells
it from a request-rate refusal by its opening words (web/src/app/attest_status.js; pinned by
tests/web/test_attest_status.py): the voter is then told to stop, not to retry."""


@dataclass(frozen=True, slots=True)
class IdentityProvider:
    """The identity-provider role: its signing key, the credential authority's identity store,
    and a limit on failed checks per voter key (a second factor such as a birth date is guessable
    offline from nothing, online only this many times)."""

    key: nacl.signing.SigningKey
    store: IdentityStore
    failures: KeyedLimiter

    def __repr__(self) -> str:
        return f"IdentityProvider({bytes(self.key.verify_key).hex()[:16]}…, {len(self.store)} voters)"

    async def check(self, voter: bytes, identity_check: str) -> None:
        """Refusal unless `identity_check` is the second factor registered for credential key
        `voter`; one message for every failure, so it tells nothing about which part was wrong."""
        if len(identity_check) > MAX_IDENTITY_CHECK_CHARS:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "identity check too long")
        if not self.failures.allows(voter):
            raise Refusal(grpc.StatusCode.RESOURCE_EXHAUSTED, FAILED_CHECKS_REFUSAL)
        self.store.reload_if_changed()
        stored = self.store.hash_for(voter)
        matches = stored is not None and await asyncio.to_thread(verify_second_factor, stored, identity_check)
        if not matches:
            self.failures.take(voter)
            raise Refusal(grpc.StatusCode.UNAUTHENTICATED, "credential or identity check not accepted")

    def attest(self, chain_id: str, election_id: str, voter: bytes, digest: bytes) -> bytes:
        """Sign the attestation; only after `check` passed for `voter`."""
        if len(voter) != PUBLIC_KEY_BYTES or len(digest) != HASH_BYTES:
            raise Refusal(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"credential key and ballot digest must be {PUBLIC_KEY_BYTES} and {HASH_BYTES} bytes",
            )
        return attestation.sign(self.key, chain_id, election_id, voter, digest)

    def attester(self, chain_id: str, election_id: str) -> attestation.Attester:
        """`attest` for assisted casting, which checked the identity itself first."""
        return lambda voter, digest: self.attest(chain_id, election_id, voter, digest)


async def answer_attest(
    provider: IdentityProvider, chain_id: str, request: identity_pb2.AttestRequest
) -> identity_pb2.AttestResponse:
    """The Attest call, wherever the provider is served: the ask must be signed by the credential
    key it names, then the second factor checked, then one digest attested. Nothing is logged."""
    check_election_id(request.election_id)
    if not attestation.request_signed(
        request.credential_key,
        chain_id,
        request.election_id,
        request.ballot_digest,
        request.request_signature,
    ):
        raise Refusal(grpc.StatusCode.UNAUTHENTICATED, "the ask is not signed by this credential key")
    await provider.check(request.credential_key, request.identity_check)
    attested = provider.attest(chain_id, request.election_id, request.credential_key, request.ballot_digest)
    return identity_pb2.AttestResponse(attestation=attested)
