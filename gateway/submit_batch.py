"""One validator's casts, gathered into SubmitTxBatch calls (`SubmitBatcher`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from gateway.answers import Answer, Unreachable, answer_of
from proto.votestore.v1 import node_pb2
from votestore.limits import GATEWAY_SUBMIT_BATCH_BYTES

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


@dataclass(slots=True)
class Waiting:
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
        self._pending: list[Waiting] = []
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._calls: set[asyncio.Task[None]] = set()

    def enqueue(self, raw: bytes, deadline: float, heard: Callable[[Answer], None]) -> Waiting:
        """Queue `raw` for this validator; its answer goes to `heard`. The caller expires it at
        `deadline` (`expire`): a broadcast keeps one timer for its n waits, not one each."""
        if self._pending and self._bytes + len(raw) > SUBMIT_BATCH_MAX_BYTES:
            self._flush()
        waiting = Waiting(raw, deadline, heard)
        self._pending.append(waiting)
        self._bytes += len(raw)
        if len(self._pending) >= SUBMIT_BATCH_MAX_TXS or not self._calls:
            self._flush()
        elif self._timer is None and len(self._calls) < SUBMIT_MAX_IN_FLIGHT:
            self._timer = asyncio.get_running_loop().call_later(SUBMIT_BATCH_WINDOW_S, self._flush)
        return waiting

    def expire(self, waiting: Waiting) -> None:
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

    async def _call(self, batch: list[Waiting]) -> None:
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
            waiting.settle(answer_of(self.index, response))

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
