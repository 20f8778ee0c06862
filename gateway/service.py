"""The `votestore.v1.Gateway` service: form checks, limits, forwarding, receipts.

The gateway is not a point of trust for integrity: validators re-check every ballot. It answers
early what it can check without ledger state (form, signature, size, limits, the identity check)
and maps every validator refusal through the one table in gateway/status.py. Nothing is recorded
unless f+1 validators took the ballot into their mempools.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import grpc  # type: ignore[import-untyped, unused-ignore]

from gateway.answers import Accepted, BroadcastOutcome
from gateway.attest import IdentityProvider, answer_attest
from gateway.commits import CommitWatcher
from gateway.config import Limits
from gateway.elections import ElectionReader, check_election_id
from gateway.errors import Refusal
from gateway.limits import Clock, KeyedLimiter, Rate
from gateway.metrics import GatewayMetrics
from gateway.receipts import ReceiptFinder
from gateway.remote_identity import RemoteIdentityProvider
from gateway.status import refusal_of
from gateway.validators import ValidatorPool
from proto.votestore.v1 import gateway_pb2, gateway_pb2_grpc, identity_pb2
from votestore.client.ballot import SelectionInvalid, credential_public_key, prepare_ballot
from votestore.encoding import decode_signed_tx, tx_kind, verify_signed_tx
from votestore.errors import DecodeError, SignatureError
from votestore.genesis import Genesis
from votestore.hashing import HASH_BYTES

log = logging.getLogger("votestore.gateway")

SECONDS_PER_MINUTE: Final = 60.0
MAX_CONTESTS_PER_REQUEST: Final = 64
MIN_FORWARD_S: Final = 0.05
"""Below this much time left, a cast is refused rather than forwarded half-way."""

Request = TypeVar("Request")
Response = TypeVar("Response")
Handler = Callable[[Any, Request, Any], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Parts:
    """What a Gateway service is built from; the server wires real ones, tests may drive a clock."""

    genesis: Genesis
    pool: ValidatorPool
    watcher: CommitWatcher
    identity: IdentityProvider | None
    """The identity-provider role, when this gateway serves it (Attest, assisted casting)."""
    limits: Limits
    metrics: GatewayMetrics
    remote_identity: RemoteIdentityProvider | None = None
    """The identity provider served apart, which assisted casting asks instead."""
    clock: Clock = time.monotonic


def _client_of(context: Any) -> str:
    """The peer's address without its port: 'ipv4:10.0.0.7:51234' -> 'ipv4:10.0.0.7'."""
    peer: str = context.peer() or "unknown"
    return peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer


class TakenLog:
    """The audit trail of taken ballots, one line a loop turn: the casts one validator reply
    decides all resume in the same turn, so at peak a line names twenty ballots or so, where a
    line a ballot cost the event loop more than its metrics. Each entry is a tracking code and
    how many validators took it (a line holds at most the calls in flight, server.MAX_CONCURRENT_RPCS);
    refusals keep a line each."""

    def __init__(self) -> None:
        self._entries: list[str] = []

    def add(self, tracking_code: bytes, accepted: int) -> None:
        if not self._entries:
            asyncio.get_running_loop().call_soon(self._write)
        self._entries.append(f"{tracking_code.hex()}:{accepted}")

    def _write(self) -> None:
        entries, self._entries = self._entries, []
        log.info("event=ballots_taken count=%d tracking_codes=%s", len(entries), ",".join(entries))


def rpc(method: str) -> Callable[[Handler[Request, Response]], Handler[Request, Response]]:
    """Client rate limit, metrics and the Refusal -> gRPC status edge, around one handler."""

    def wrap(handler: Handler[Request, Response]) -> Handler[Request, Response]:
        @functools.wraps(handler)
        async def run(self: GatewayService, request: Request, context: Any) -> Response:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                client = _client_of(context)
                if not self.client_limiter.take(client):
                    wait = self.client_limiter.retry_after_s(client)
                    raise Refusal(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"client over its request rate; retry in {wait:.1f}s",
                    )
                return await handler(self, request, context)
            except Refusal as refusal:
                code = refusal.status
                await context.abort(refusal.status, refusal.message)
                raise AssertionError("context.abort returned") from None
            finally:
                self.metrics.request_count(method, code.name).inc()
                self.metrics.request_latency(method).observe(time.perf_counter() - started)

        return run

    return wrap


class GatewayService(gateway_pb2_grpc.GatewayServicer):
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.metrics = parts.metrics
        limits = parts.limits
        self.client_limiter = KeyedLimiter(limits.client_rate(), parts.clock)
        self.voter_limiter = KeyedLimiter(
            Rate(limits.voter_cast_burst, limits.voter_casts_per_minute / SECONDS_PER_MINUTE), parts.clock
        )
        self.elections = ElectionReader(parts.pool)
        self.receipts = ReceiptFinder(parts.pool, parts.genesis, parts.watcher)
        self.taken_log = TakenLog()

    # ------------------------------------------------------------------ helpers

    def _identity_provider(self) -> IdentityProvider:
        if self.parts.identity is None:
            raise Refusal(
                grpc.StatusCode.UNIMPLEMENTED, "this gateway serves no identity provider (identity check)"
            )
        return self.parts.identity

    def _time_left(self, context: Any, cap_s: float) -> float:
        remaining = context.time_remaining()
        return cap_s if remaining is None else min(cap_s, remaining)

    def _take_voter(self, voter: bytes) -> None:
        if not self.voter_limiter.take(voter):
            wait = self.voter_limiter.retry_after_s(voter)
            raise Refusal(
                grpc.StatusCode.RESOURCE_EXHAUSTED, f"too many casts for this voter; retry in {wait:.0f}s"
            )

    async def _forward(self, raw: bytes, context: Any) -> gateway_pb2.CastBallotResponse:
        timeout_s = self._time_left(context, self.parts.limits.forward_deadline_s)
        if timeout_s < MIN_FORWARD_S:
            raise Refusal(grpc.StatusCode.DEADLINE_EXCEEDED, "too little time left to forward the ballot")
        outcome = await self.parts.pool.broadcast(raw, timeout_s)
        self._count(outcome)
        if outcome.taken:
            status = gateway_pb2.COMMITTED if outcome.committed else gateway_pb2.PENDING
            if status == gateway_pb2.PENDING:
                self.receipts.taken(outcome.tracking_code)
            self.taken_log.add(outcome.tracking_code, outcome.accepted)
            return gateway_pb2.CastBallotResponse(tracking_code=outcome.tracking_code, status=status)
        log.info(
            "event=ballot_refused tracking_code=%s accepted=%d", outcome.tracking_code.hex(), outcome.accepted
        )
        raise refusal_of(outcome, self.parts.pool.n)

    def _count(self, outcome: BroadcastOutcome) -> None:
        for answer in outcome.answers:
            kind = "accepted" if isinstance(answer, Accepted) else type(answer).__name__.lower()
            self.metrics.forwarded_count(kind).inc()

    # ------------------------------------------------------------------ the service

    @rpc("GetElection")
    async def GetElection(
        self, request: gateway_pb2.GetElectionGatewayRequest, context: Any
    ) -> gateway_pb2.ElectionInfo:
        state = await self.elections.read(request.election_id)
        return gateway_pb2.ElectionInfo(
            chain_id=self.parts.genesis.chain_id, state=state, now_ms=int(time.time() * 1000)
        )

    async def _submit(self, raw: bytes, kind: str, context: Any) -> gateway_pb2.CastBallotResponse:
        """A voter's own transaction of `kind` (a ballot, an audited ballot): form, signature and
        the voter's rate here; everything else is the validators' to judge."""
        try:
            envelope, tx = decode_signed_tx(raw)
        except DecodeError as exc:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"malformed {kind}: {exc}") from None
        if tx_kind(tx) != kind:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"the gateway takes {kind} transactions only")
        check_election_id(getattr(tx, kind).election_id)
        try:
            verify_signed_tx(self.parts.genesis.chain_id, envelope, tx)
        except SignatureError as exc:
            raise Refusal(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
        self._take_voter(envelope.signer)
        return await self._forward(raw, context)

    @rpc("CastBallot")
    async def CastBallot(
        self, request: gateway_pb2.CastBallotRequest, context: Any
    ) -> gateway_pb2.CastBallotResponse:
        return await self._submit(request.tx, "ballot", context)

    @rpc("PublishAudit")
    async def PublishAudit(
        self, request: gateway_pb2.PublishAuditRequest, context: Any
    ) -> gateway_pb2.CastBallotResponse:
        """A ballot the voter audited, for the ledger (election/auditing.py): it shares the voter's
        rate with casting, so publishing is no way round the per-voter limit."""
        return await self._submit(request.tx, "audited_ballot", context)

    @rpc("CastBallotAssisted")
    async def CastBallotAssisted(
        self, request: gateway_pb2.CastBallotAssistedRequest, context: Any
    ) -> gateway_pb2.CastBallotResponse:
        """The credential and choices stay in this call's memory: never logged, stored or echoed.

        With the identity provider served here, the identity is checked first and this gateway
        attests; with it apart, the ballot is encrypted first and the provider asked as a voter's
        device asks it (the digest it attests needs the encrypted ballot)."""
        local, remote = self.parts.identity, self.parts.remote_identity
        if local is None and remote is None:
            raise Refusal(
                grpc.StatusCode.UNIMPLEMENTED, "this gateway serves no identity provider (identity check)"
            )
        check_election_id(request.election_id)
        if len(request.selections) > MAX_CONTESTS_PER_REQUEST:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "too many contests in the request")
        try:
            voter = credential_public_key(request.credential, request.election_id)
        except SelectionInvalid as exc:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        if local is not None:
            await local.check(voter, request.identity_check)
        self._take_voter(voter)
        params = await self.elections.ballot_params(request.election_id)
        selections = {s.contest_id: list(s.choices) for s in request.selections}
        if len(selections) != len(request.selections):
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "a contest appears twice in the selections")
        chain_id = self.parts.genesis.chain_id
        try:
            prepared = await asyncio.to_thread(
                prepare_ballot, params.definition, params.election_key, request.credential, selections
            )
        except SelectionInvalid as exc:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        if local is not None:
            attested = local.attest(chain_id, request.election_id, prepared.voter, prepared.digest)
        else:
            assert remote is not None
            attested = await remote.attest(chain_id, prepared, request.identity_check)
        return await self._forward(prepared.signed(chain_id, attested), context)

    @rpc("Attest")
    async def Attest(self, request: identity_pb2.AttestRequest, context: Any) -> identity_pb2.AttestResponse:
        """The identity provider's step for device-encrypted ballots: served here, or passed on as
        it came to the provider's own process (the voter page reaches it through this gateway)."""
        remote = self.parts.remote_identity
        if self.parts.identity is None and remote is not None:
            return await remote.relay(request)
        return await answer_attest(self._identity_provider(), self.parts.genesis.chain_id, request)

    @rpc("GetReceipt")
    async def GetReceipt(
        self, request: gateway_pb2.GetReceiptRequest, context: Any
    ) -> gateway_pb2.ReceiptResponse:
        _check_tracking_code(request.tracking_code)
        response = await self.receipts.lookup(request.tracking_code)
        self.metrics.receipt_count(gateway_pb2.ReceiptStatus.Name(response.status)).inc()
        return response

    @rpc("WaitReceipt")
    async def WaitReceipt(
        self, request: gateway_pb2.WaitReceiptRequest, context: Any
    ) -> gateway_pb2.ReceiptResponse:
        _check_tracking_code(request.tracking_code)
        asked_s = request.timeout_ms / 1000 if request.timeout_ms else self.parts.limits.max_wait_s
        timeout_s = self._time_left(context, min(asked_s, self.parts.limits.max_wait_s))
        response = await self.receipts.wait(request.tracking_code, timeout_s)
        self.metrics.receipt_count(gateway_pb2.ReceiptStatus.Name(response.status)).inc()
        return response

    @rpc("GetTurnout")
    async def GetTurnout(
        self, request: gateway_pb2.GetTurnoutRequest, context: Any
    ) -> gateway_pb2.TurnoutResponse:
        state = await self.elections.read(request.election_id)
        return gateway_pb2.TurnoutResponse(
            election_id=request.election_id,
            height=self.parts.watcher.height,
            roll_size=state.roll_size,
            ballots=state.ballots,
            groups=state.turnout,
        )

    @rpc("GetResult")
    async def GetResult(
        self, request: gateway_pb2.GetResultRequest, context: Any
    ) -> gateway_pb2.ResultResponse:
        state = await self.elections.read(request.election_id)
        # Unset until the count is recorded: an empty result would read as a count of nothing.
        result = state.result if state.HasField("result") else None
        return gateway_pb2.ResultResponse(phase=state.phase, result=result)


def _check_tracking_code(code: bytes) -> None:
    if len(code) != HASH_BYTES:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"tracking code must be {HASH_BYTES} bytes")
