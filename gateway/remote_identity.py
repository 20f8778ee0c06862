"""The identity provider served by another process (`votestore identity-provider run`), as the
gateway asks it in assisted casting.

Assisted casting hands the gateway the voter's credential, second factor and choices; with the
provider apart, the gateway encrypts the ballot and then asks the provider exactly as a voter's
own device does — an ask signed with the credential key, carrying the second factor — and the
provider checks the identity and counts failures. The gateway holds no provider key and no
identity store, so it can no more attest a ballot than any other client (docs/roles.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from gateway.errors import Refusal
from proto.votestore.v1 import identity_pb2, identity_pb2_grpc
from votestore.client.ballot import PreparedBallot
from votestore.errors import ConfigError
from votestore.netaddr import is_local_only

ATTEST_TIMEOUT_S: Final = 10.0
PASSED_ON: Final = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
"""The provider's answers that are about the voter's ask, handed to the voter as they came."""


class RemoteIdentityProvider:
    """A channel to the provider: TLS with `ca` (its CA certificate), else plaintext, which is
    refused unless the target is loopback."""

    def __init__(self, target: str, ca: Path | None) -> None:
        if ca is None:
            if not is_local_only(target):
                raise ConfigError(
                    f"identity_provider {target}: plaintext is for loopback only; set identity_provider_ca"
                )
            self._channel: Any = grpc.aio.insecure_channel(target)
        else:
            try:
                roots = ca.read_bytes()
            except OSError as exc:
                raise ConfigError(f"identity_provider_ca {ca} unreadable: {exc.strerror}") from None
            self._channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(roots))
        self.target = target
        self._stub: Any = identity_pb2_grpc.IdentityProviderStub(self._channel)

    async def attest(self, chain_id: str, prepared: PreparedBallot, identity_check: str) -> bytes:
        """The provider's attestation of `prepared` for its voter, or a Refusal saying why not."""
        response = await self.relay(prepared.attest_request(chain_id, identity_check))
        attested: bytes = response.attestation
        return attested

    async def relay(self, request: identity_pb2.AttestRequest) -> identity_pb2.AttestResponse:
        """A voter's own ask (signed by its credential key; the voter page's, over the gateway's
        gRPC-Web bridge) passed to the provider as it came; the answer, or a Refusal."""
        try:
            response: identity_pb2.AttestResponse = await self._stub.Attest(request, timeout=ATTEST_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in PASSED_ON:
                raise Refusal(exc.code(), exc.details() or "identity check not accepted") from None
            raise Refusal(
                grpc.StatusCode.UNAVAILABLE,
                f"the identity provider did not answer ({exc.code().name}); retry",
            ) from None
        return response

    async def close(self) -> None:
        await self._channel.close()
