"""An asyncio client for the Gateway service: local casting (the secret stays here), assisted
casting, receipts, turnout and results.

Errors come back as GatewayError carrying the gRPC status name and the gateway's message, so a
caller (the `votestore cast` command) prints one line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, TypeVar

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from proto.votestore.v1 import gateway_pb2, gateway_pb2_grpc, identity_pb2_grpc
from votestore.client.ballot import PreparedBallot, Selections, prepare_ballot
from votestore.crypto.attestation import Attester
from votestore.errors import VotestoreError
from votestore.limits import GATEWAY_REPLY_BYTES, message_options

CALL_TIMEOUT_S: Final = 30.0
WAIT_MARGIN_S: Final = 5.0
"""The gRPC deadline of WaitReceipt exceeds the asked wait by this much, so the gateway answers."""

T = TypeVar("T")

REPLY_OPTIONS: Final = message_options(receive=GATEWAY_REPLY_BYTES)
"""A gateway with the default request cap replies with at most this much (votestore.limits)."""


class GatewayError(VotestoreError):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Cast:
    tracking_code: bytes
    status: gateway_pb2.ReceiptStatus.ValueType


def _channel(target: str, root_certificates: bytes | None) -> Any:
    if root_certificates is None:
        return grpc.aio.insecure_channel(target, options=REPLY_OPTIONS)
    credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    return grpc.aio.secure_channel(target, credentials, options=REPLY_OPTIONS)


class GatewayClient:
    """`async with GatewayClient("host:port") as gw: ...`; TLS when root certificates are given."""

    def __init__(
        self, target: str, *, root_certificates: bytes | None = None, identity_target: str | None = None
    ) -> None:
        """`identity_target`: where the identity provider's Attest is served when it runs apart
        from this gateway (its own process, another operator); by default on `target`."""
        self._target, self._tls = target, root_certificates is not None
        self._channel = _channel(target, root_certificates)
        self._identity_channel = (
            self._channel if identity_target is None else _channel(identity_target, root_certificates)
        )
        self._stub: Any = gateway_pb2_grpc.GatewayStub(self._channel)
        self._identity: Any = identity_pb2_grpc.IdentityProviderStub(self._identity_channel)

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()
        if self._identity_channel is not self._channel:
            await self._identity_channel.close()

    async def _call(self, method: Callable[..., Awaitable[T]], request: Any, timeout_s: float) -> T:
        try:
            return await method(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            detail = exc.details() or ""
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                detail = f"{detail}: {self._unreachable()}"
            raise GatewayError(exc.code().name, detail) from None

    def _unreachable(self) -> str:
        """What to check when the gateway cannot be reached: grpc's own words ("Socket closed")
        do not say that a plaintext client met a TLS gateway, the commonest cause."""
        if self._tls:
            return (
                f"cannot reach the gateway at {self._target} over TLS: check the address, and that the CA "
                "certificate given (--tls-ca) signed the gateway's"
            )
        return (
            f"cannot reach the gateway at {self._target} over plaintext: check the address; if the gateway "
            "serves TLS, give its CA certificate (--tls-ca)"
        )

    async def election(self, election_id: str) -> gateway_pb2.ElectionInfo:
        request = gateway_pb2.GetElectionGatewayRequest(election_id=election_id)
        return await self._call(self._stub.GetElection, request, CALL_TIMEOUT_S)

    async def cast_signed(self, tx: bytes) -> Cast:
        """Cast a ballot transaction built and signed elsewhere."""
        response = await self._call(
            self._stub.CastBallot, gateway_pb2.CastBallotRequest(tx=tx), CALL_TIMEOUT_S
        )
        return Cast(response.tracking_code, response.status)

    async def publish_audit(self, tx: bytes) -> Cast:
        """Publish an audited ballot (an AuditedBallot transaction signed with the credential
        key, `txbuild.audited_ballot`); answers as a cast does."""
        response = await self._call(
            self._stub.PublishAudit, gateway_pb2.PublishAuditRequest(tx=tx), CALL_TIMEOUT_S
        )
        return Cast(response.tracking_code, response.status)

    async def cast(
        self,
        election_id: str,
        credential: bytes,
        selections: Selections,
        identity_check: str = "",
        attest: Attester | None = None,
    ) -> Cast:
        """Fetch the election, encrypt and prove here, have the identity provider attest the
        encrypted body (`attest`, or the provider's Attest call on this connection with
        `identity_check`), sign with the derived key, cast. The provider sees the voter's public
        key and the ballot's hash only."""
        info = await self.election(election_id)
        state = info.state
        prepared = prepare_ballot(state.definition, state.election_key, credential, selections)
        if attest is not None:
            attested = attest(prepared.voter, prepared.digest)
        else:
            attested = await self.attest(info.chain_id, prepared, identity_check)
        return await self.cast_signed(prepared.signed(info.chain_id, attested))

    async def attest(self, chain_id: str, prepared: PreparedBallot, identity_check: str) -> bytes:
        """The identity provider's attestation of one prepared ballot for its voter, after the
        provider's identity check; the ask is signed with the credential key."""
        request = prepared.attest_request(chain_id, identity_check)
        response = await self._call(self._identity.Attest, request, CALL_TIMEOUT_S)
        attested: bytes = response.attestation
        return attested

    async def cast_assisted(
        self, election_id: str, credential: bytes, identity_check: str, selections: Selections
    ) -> Cast:
        """Thin-client casting: the gateway encrypts and signs (it sees the credential and choices)."""
        request = gateway_pb2.CastBallotAssistedRequest(
            election_id=election_id,
            credential=credential,
            identity_check=identity_check,
            selections=[
                gateway_pb2.ContestSelection(contest_id=contest, choices=list(chosen))
                for contest, chosen in selections.items()
            ],
        )
        response = await self._call(self._stub.CastBallotAssisted, request, CALL_TIMEOUT_S)
        return Cast(response.tracking_code, response.status)

    async def receipt(self, tracking_code: bytes) -> gateway_pb2.ReceiptResponse:
        request = gateway_pb2.GetReceiptRequest(tracking_code=tracking_code)
        return await self._call(self._stub.GetReceipt, request, CALL_TIMEOUT_S)

    async def wait_receipt(self, tracking_code: bytes, timeout_s: float) -> gateway_pb2.ReceiptResponse:
        request = gateway_pb2.WaitReceiptRequest(
            tracking_code=tracking_code, timeout_ms=int(timeout_s * 1000)
        )
        return await self._call(self._stub.WaitReceipt, request, timeout_s + WAIT_MARGIN_S)

    async def turnout(self, election_id: str) -> gateway_pb2.TurnoutResponse:
        request = gateway_pb2.GetTurnoutRequest(election_id=election_id)
        return await self._call(self._stub.GetTurnout, request, CALL_TIMEOUT_S)

    async def result(self, election_id: str) -> gateway_pb2.ResultResponse:
        request = gateway_pb2.GetResultRequest(election_id=election_id)
        return await self._call(self._stub.GetResult, request, CALL_TIMEOUT_S)
