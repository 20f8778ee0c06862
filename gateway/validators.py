"""Talking to every validator: broadcast a transaction, ask all of them a question.

The gateway trusts no single validator. A ballot counts as taken once f+1 validators hold it in
their mempools (at least one honest one will propose or gossip it); reads that matter are asked of
all of them and judged by the caller. Retries with backoff are gRPC's own retry policy, set in
the channel's service config; every call has a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, TypeVar

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from gateway.answers import Answer, BroadcastOutcome, decided
from gateway.submit_batch import SubmitBatcher, Waiting
from proto.votestore.v1 import node_pb2_grpc
from votestore.channels import ValidatorDialer
from votestore.encoding import tx_hash
from votestore.genesis import Genesis
from votestore.limits import NODE_MESSAGE_BYTES, message_options

T = TypeVar("T")

RETRY_MAX_ATTEMPTS: Final = 5  # gRPC caps retries at 5 attempts per call
RETRY_INITIAL_BACKOFF_S: Final = 0.05
RETRY_MAX_BACKOFF_S: Final = 1.0
RECONNECT_BACKOFF_MIN_MS: Final = 100
RECONNECT_BACKOFF_MAX_MS: Final = 2000
"""A restarted validator is found again within two seconds (gRPC's default waits up to 120 s)."""
_SERVICE_CONFIG: Final = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "votestore.v1.Node"}],
                "retryPolicy": {
                    "maxAttempts": RETRY_MAX_ATTEMPTS,
                    "initialBackoff": f"{RETRY_INITIAL_BACKOFF_S}s",
                    "maxBackoff": f"{RETRY_MAX_BACKOFF_S}s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
                },
            }
        ]
    }
)


class ValidatorPool:
    """One channel per genesis validator, opened lazily by gRPC and kept for the process."""

    def __init__(self, genesis: Genesis, dialer: ValidatorDialer) -> None:
        options: list[tuple[str, str | int]] = [
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MIN_MS),
            ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_MIN_MS),
            ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MAX_MS),
            *message_options(receive=NODE_MESSAGE_BYTES),
        ]
        self.genesis = genesis
        self._channels = [dialer.aio(v.index, v.public_address, options) for v in genesis.validators]
        self.stubs: list[Any] = [node_pb2_grpc.NodeStub(channel) for channel in self._channels]
        self.batchers = [SubmitBatcher(i, stub) for i, stub in enumerate(self.stubs)]
        self._background: set[asyncio.Future[None]] = set()

    @property
    def n(self) -> int:
        return len(self.stubs)

    @property
    def needed(self) -> int:
        """f+1: at least one honest validator holds what f+1 validators hold."""
        return self.genesis.f + 1

    async def close(self) -> None:
        """Answer every wait CANCELLED (the batchers fail what is queued or in flight)."""
        await asyncio.gather(*(batcher.close() for batcher in self.batchers))
        await asyncio.gather(*(channel.close() for channel in self._channels))

    async def broadcast(self, raw: bytes, timeout_s: float) -> BroadcastOutcome:
        """Send to every validator at once; return when f+1 took it or cannot. The sends to the
        others continue (each bounded by the deadline) so every mempool gets it. One timer and
        one future a broadcast: no task per validator."""
        assert timeout_s > 0, timeout_s
        loop = asyncio.get_running_loop()
        answers: list[Answer] = []
        decision: asyncio.Future[None] = loop.create_future()
        all_heard: asyncio.Future[None] = loop.create_future()
        waits: list[tuple[SubmitBatcher, Waiting]] = []
        deadline = loop.time() + timeout_s
        timer = loop.call_at(deadline, _expire_all, waits)

        def heard(answer: Answer) -> None:
            answers.append(answer)
            if not decision.done() and decided(answers, self.n, self.needed):
                decision.set_result(None)
            if len(answers) == self.n:
                timer.cancel()
                all_heard.set_result(None)

        waits.extend((batcher, batcher.enqueue(raw, deadline, heard)) for batcher in self.batchers)
        await decision
        if not all_heard.done():
            self._background.add(all_heard)
            all_heard.add_done_callback(self._background.discard)
        return BroadcastOutcome(tx_hash(raw), self.needed, tuple(sorted(answers, key=_by_validator)))

    async def drain(self) -> None:
        """Wait for the sends still reaching validators after their broadcasts returned."""
        await asyncio.gather(*list(self._background))

    async def ask_one(self, index: int, call: Callable[[Any], Awaitable[T]]) -> T | grpc.aio.AioRpcError:
        """One validator's answer, or its RPC error."""
        _, answer = await _guarded(call, index, self.stubs[index])
        return answer

    async def ask_all(
        self, call: Callable[[Any], Awaitable[T]]
    ) -> AsyncIterator[tuple[int, T | grpc.aio.AioRpcError]]:
        """Yield (validator, answer or RPC error) as they arrive; leaving early cancels the rest."""
        tasks = [asyncio.create_task(_guarded(call, i, stub)) for i, stub in enumerate(self.stubs)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()


def _expire_all(waits: list[tuple[SubmitBatcher, Waiting]]) -> None:
    for batcher, waiting in waits:
        batcher.expire(waiting)


def _by_validator(answer: Answer) -> int:
    return answer.validator


async def _guarded(
    call: Callable[[Any], Awaitable[T]], index: int, stub: Any
) -> tuple[int, T | grpc.aio.AioRpcError]:
    try:
        return index, await call(stub)
    except grpc.aio.AioRpcError as exc:
        return index, exc
