"""Talking to every validator: broadcast a transaction, ask all of them a question.

The gateway trusts no single validator. A ballot counts as taken once f+1 validators hold it in
their mempools (at least one honest one will propose or gossip it); reads that matter are asked of
all of them and judged by the caller. Retries with backoff are gRPC's own retry policy, set in
the channel's service config; every call has a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from proto.votestore.v1 import election_pb2, node_pb2, node_pb2_grpc
from votestore.channels import ValidatorDialer
from votestore.encoding import tx_hash
from votestore.genesis import Genesis
from votestore.limits import GATEWAY_SUBMIT_BATCH_BYTES, NODE_MESSAGE_BYTES, message_options

T = TypeVar("T")

RETRY_MAX_ATTEMPTS: Final = 5  # gRPC caps retries at 5 attempts per call
RETRY_INITIAL_BACKOFF_S: Final = 0.05
RETRY_MAX_BACKOFF_S: Final = 1.0
RECONNECT_BACKOFF_MIN_MS: Final = 100
RECONNECT_BACKOFF_MAX_MS: Final = 2000
"""A restarted validator is found again within two seconds (gRPC's default waits up to 120 s)."""
SUBMIT_BATCH_WINDOW_S: Final = 0.005
"""How long a cast waits for others to share its call to a validator (SubmitTxBatch)."""
SUBMIT_MAX_IN_FLIGHT: Final = 2
"""SubmitTxBatch calls in flight to one validator; casts beyond wait for one of them to return.
A validator answers a call once it checked its ballots, so under load the calls are as few as
the validator can answer and each carries all that came meanwhile (one call a validator for
every ballot or two cost the validators as much CPU as the rest of their loop)."""
SUBMIT_BATCH_MAX_TXS: Final = 128
SUBMIT_BATCH_MAX_BYTES: Final = GATEWAY_SUBMIT_BATCH_BYTES
"""A batch is sent at once when it holds this many transactions or would exceed this many bytes;
both are under the node's own caps (512 transactions, 8 MiB)."""

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


@dataclass(frozen=True, slots=True)
class Accepted:
    validator: int
    committed: bool


@dataclass(frozen=True, slots=True)
class Refused:
    validator: int
    code: int
    detail: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    validator: int
    status: grpc.StatusCode
    detail: str


Answer = Accepted | Refused | Unreachable


@dataclass(frozen=True, slots=True)
class BroadcastOutcome:
    """What the validators said about one transaction, as far as the gateway waited."""

    tracking_code: bytes
    needed: int
    answers: tuple[Answer, ...]

    @property
    def accepted(self) -> int:
        return sum(isinstance(a, Accepted) for a in self.answers)

    @property
    def taken(self) -> bool:
        return self.accepted >= self.needed

    @property
    def committed(self) -> bool:
        """f+1 validators say it is already in a committed block (a resubmitted ballot)."""
        return sum(isinstance(a, Accepted) and a.committed for a in self.answers) >= self.needed

    def refusal(self) -> Refused | None:
        """The reason most validators gave (ties to the lower code, so the answer is stable)."""
        refusals = [a for a in self.answers if isinstance(a, Refused)]
        if not refusals:
            return None
        counts = Counter(r.code for r in refusals)
        code = min(counts, key=lambda c: (-counts[c], c))
        return next(r for r in refusals if r.code == code)

    def oversize(self) -> Unreachable | None:
        """A validator refused the bytes for their size (INVALID_ARGUMENT from its intake)."""
        return next(
            (
                a
                for a in self.answers
                if isinstance(a, Unreachable) and a.status == grpc.StatusCode.INVALID_ARGUMENT
            ),
            None,
        )


@dataclass(slots=True)
class _Waiting:
    """One transaction waiting for one validator's answer, which goes to `heard` exactly once."""

    raw: bytes
    deadline: float  # loop time
    heard: Callable[[Answer], None]
    answered: bool = False

    def settle(self, answer: Answer) -> None:
        if not self.answered:
            self.answered = True
            self.heard(answer)


class SubmitBatcher:
    """The casts for one validator, gathered into SubmitTxBatch calls.

    A unary call per ballot per validator cost each validator more in gRPC and asyncio callbacks
    than its intake checks (docs/benchmarks.md). A cast finding no call in flight to the validator
    goes at once (an idle validator is not kept waiting); while calls are in flight, casts
    arriving within SUBMIT_BATCH_WINDOW_S share the next one, and with SUBMIT_MAX_IN_FLIGHT calls
    out, the casts share the call sent when one of them returns: the busier the validator, the
    bigger its batches. Each waiter gets its own validator's answer and keeps its own deadline: the
    call runs until the latest of its waiters' deadlines, and a waiter whose deadline passes first
    is answered DEADLINE_EXCEEDED, as its own call would have been. A call that fails answers
    every waiter with its status (Unreachable), as a failed SubmitTx did.
    """

    def __init__(self, index: int, stub: Any) -> None:
        self.index = index
        self._stub = stub
        self._pending: list[_Waiting] = []
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._calls: set[asyncio.Task[None]] = set()

    def enqueue(self, raw: bytes, deadline: float, heard: Callable[[Answer], None]) -> _Waiting:
        """Queue `raw` for this validator; its answer goes to `heard`. The caller expires it at
        `deadline` (`expire`): a broadcast keeps one timer for its n waits, not one each."""
        if self._pending and self._bytes + len(raw) > SUBMIT_BATCH_MAX_BYTES:
            self._flush()
        waiting = _Waiting(raw, deadline, heard)
        self._pending.append(waiting)
        self._bytes += len(raw)
        if len(self._pending) >= SUBMIT_BATCH_MAX_TXS or not self._calls:
            self._flush()
        elif self._timer is None and len(self._calls) < SUBMIT_MAX_IN_FLIGHT:
            self._timer = asyncio.get_running_loop().call_later(SUBMIT_BATCH_WINDOW_S, self._flush)
        return waiting

    def expire(self, waiting: _Waiting) -> None:
        waiting.settle(Unreachable(self.index, grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))

    async def submit(self, raw: bytes, timeout_s: float) -> Answer:
        """This validator's answer for one transaction, by `timeout_s` at the latest."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        waiting = self.enqueue(raw, loop.time() + timeout_s, answer.set_result)
        timer = loop.call_at(waiting.deadline, self.expire, waiting)
        try:
            return await answer
        finally:
            timer.cancel()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._bytes = self._pending, [], 0
        if batch:
            call = asyncio.create_task(self._call(batch))
            self._calls.add(call)
            call.add_done_callback(self._returned)

    def _returned(self, call: asyncio.Task[None]) -> None:
        self._calls.discard(call)
        if self._pending and self._timer is None:
            self._flush()  # the casts that waited for a call to return

    async def _call(self, batch: list[_Waiting]) -> None:
        live = [w for w in batch if not w.answered]  # an expired cast needs no call
        timeout_s = max((w.deadline for w in live), default=0.0) - asyncio.get_running_loop().time()
        if timeout_s <= 0:
            return
        request = node_pb2.SubmitTxBatchRequest(txs=[w.raw for w in live])
        try:
            reply = await self._stub.SubmitTxBatch(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            failed = Unreachable(self.index, exc.code(), exc.details() or "")
            for waiting in live:
                waiting.settle(failed)
            return
        except asyncio.CancelledError:
            for waiting in live:
                waiting.settle(Unreachable(self.index, grpc.StatusCode.CANCELLED, "gateway closing"))
            raise
        if len(reply.results) != len(live):
            wrong = Unreachable(
                self.index,
                grpc.StatusCode.UNKNOWN,
                f"{len(reply.results)} answers to a batch of {len(live)} transactions",
            )
            for waiting in live:
                waiting.settle(wrong)
            return
        for waiting, response in zip(live, reply.results, strict=True):
            waiting.settle(_answer_of(self.index, response))

    async def close(self) -> None:
        """Fail what has not been sent; cancel the calls in flight."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._bytes = self._pending, [], 0
        for waiting in pending:
            waiting.settle(Unreachable(self.index, grpc.StatusCode.CANCELLED, "gateway closing"))
        for call in list(self._calls):
            call.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)


def _answer_of(index: int, response: node_pb2.SubmitTxResponse) -> Answer:
    if response.code == election_pb2.OK:
        return Accepted(index, bool(response.committed))
    return Refused(index, response.code, response.detail)


def decided(answers: list[Answer], n: int, needed: int) -> bool:
    """Stop waiting once f+1 took it, or once f+1 can no longer be reached."""
    accepted = sum(isinstance(a, Accepted) for a in answers)
    return accepted >= needed or accepted + (n - len(answers)) < needed


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
        self._channels = [dialer.aio(v.index, v.address, options) for v in genesis.validators]
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
        waits: list[tuple[SubmitBatcher, _Waiting]] = []
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


def _expire_all(waits: list[tuple[SubmitBatcher, _Waiting]]) -> None:
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
