"""The one casting load: ballots cast through a gateway, at most so many in flight (or on an
open-loop schedule), each retried while the gateway says "not now" and, if asked, followed to
its receipt; each ballot's timing recorded. The demo, the chaos harness and the benchmarks
each cast through it (`tests/test_one_driver.py` fails on a casting loop written elsewhere).

What differs between them is data: which answers are worth retrying and how long to pause
(`Retry`), whether and how long to wait for a receipt (`ReceiptWait`), the pace, and what to do
with each ballot's `Landed` record (the progress callback).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar

from proto.votestore.v1 import gateway_pb2
from votestore.client.ballot import Selections
from votestore.client.gateway_client import Cast, GatewayClient, GatewayError
from votestore.encoding import tx_hash

T = TypeVar("T")
R = TypeVar("R")

MAX_IN_FLIGHT: Final = 1024
"""Workers of one closed-loop load; below the gateway's MAX_CONCURRENT_RPCS (1000) plus margin."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Which gateway answers say "not now" (the call is made again) rather than "no"."""

    statuses: frozenset[str]
    pause_s: float
    backoff: float = 1.0
    """The pause is multiplied by this after each retry."""
    attempts: int | None = None
    """Calls at most; None: until the ballot's deadline."""


@dataclass(frozen=True, slots=True)
class ReceiptWait:
    deadline_s: float
    """From the first cast until the receipt must be in hand."""
    call_s: float
    """One WaitReceipt call waits at most this long; a longer deadline makes several."""
    final: bool = True
    """Wait for the next block's header too (the result certified), not only the commit."""


@dataclass(frozen=True, slots=True)
class Assisted:
    """An assisted cast (kiosks only, docs/roles.md): the gateway encrypts and signs for a thin
    client that sends its credential, identity check and plain choices."""

    election_id: str
    credential: bytes
    identity_check: str
    selections: Selections


@dataclass(frozen=True, slots=True)
class Landed:
    """One ballot's fate and timing (seconds on `time.monotonic`)."""

    voter: int
    tracking_code: bytes
    """Empty when an assisted ballot was already there (only the gateway knew its hash)."""
    outcome: str
    """'receipt' (result certified, or committed when not waiting for `final`),
    'uncertified-receipt' (committed, next block not seen by the deadline), 'cast' (taken; no
    receipt asked for), 'already-there' (an assisted ballot), 'refused:<STATUS>', 'rejected'
    (in a block, not OK), 'no-receipt', 'receipt-failed:<STATUS>'."""
    started_s: float
    """The latency origin: when the ballot was due (open loop) or its cast began."""
    cast_s: float | None
    """When the gateway took the cast (f+1 validators hold it); None if it never did."""
    done_s: float
    response: gateway_pb2.ReceiptResponse | None = None
    detail: str = ""
    """The gateway's message for a refusal."""

    @property
    def latency_s(self) -> float:
        return self.done_s - self.started_s

    @property
    def receipted(self) -> bool:
        return self.outcome in ("receipt", "uncertified-receipt")


async def retried(
    call: Callable[[], Awaitable[T]],
    retry: Retry,
    *,
    deadline: float = float("inf"),
    on_retry: Callable[[str], None] | None = None,
) -> T:
    """`call()`, made again while it fails with one of `retry.statuses` and attempts and the
    deadline (monotonic) allow; the last GatewayError is raised."""
    pause, attempt = retry.pause_s, 1
    while True:
        try:
            return await call()
        except GatewayError as exc:
            out_of_attempts = retry.attempts is not None and attempt >= retry.attempts
            if exc.status not in retry.statuses or out_of_attempts or time.monotonic() + pause >= deadline:
                raise
            if on_retry is not None:
                on_retry(exc.status)
        await asyncio.sleep(pause)
        pause, attempt = pause * retry.backoff, attempt + 1


async def follow(
    client: GatewayClient, tracking_code: bytes, wait: ReceiptWait, retry: Retry, *, deadline: float
) -> tuple[str, gateway_pb2.ReceiptResponse | None, str]:
    """(outcome, last receipt answer, detail) for a taken ballot, by `deadline` (monotonic)."""
    last: gateway_pb2.ReceiptResponse | None = None
    while time.monotonic() < deadline:
        wait_s = min(wait.call_s, max(0.1, deadline - time.monotonic()))

        async def call(wait_s: float = wait_s) -> gateway_pb2.ReceiptResponse:
            return await client.wait_receipt(tracking_code, wait_s)

        try:
            answer = await retried(call, retry, deadline=deadline)
        except GatewayError as exc:
            return f"receipt-failed:{exc.status}", last, exc.message
        if answer.status == gateway_pb2.REJECTED:
            return "rejected", answer, ""
        if answer.status == gateway_pb2.COMMITTED:
            last = answer
            if not wait.final or answer.receipt.proof.HasField("next_header"):
                return "receipt", answer, ""
    return ("no-receipt", None, "") if last is None else ("uncertified-receipt", last, "")


async def cast_one(
    client: GatewayClient,
    voter: int,
    tx: bytes | None,
    *,
    retry: Retry,
    receipt: ReceiptWait | None,
    assisted: Assisted | None = None,
    started_s: float | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> Landed:
    """Cast one ballot — the signed `tx`, or through `assisted` (the gateway builds it) — and,
    with `receipt`, follow it. ALREADY_EXISTS for our own signed bytes means they are the ones
    there (a retry, or a validator's intake racing the gossip of this very ballot, docs/demo.md):
    followed by their hash."""
    assert (tx is None) != (assisted is None), "a signed ballot or an assisted cast"
    started = time.monotonic() if started_s is None else started_s
    deadline = started + (receipt.deadline_s if receipt is not None else float("inf"))

    def landed(
        outcome: str,
        code: bytes,
        cast_s: float | None,
        response: gateway_pb2.ReceiptResponse | None = None,
        detail: str = "",
    ) -> Landed:
        return Landed(voter, code, outcome, started, cast_s, time.monotonic(), response, detail)

    async def send() -> Cast:
        if tx is not None:
            return await client.cast_signed(tx)
        assert assisted is not None
        a = assisted
        return await client.cast_assisted(a.election_id, a.credential, a.identity_check, a.selections)

    try:
        tracking_code = (await retried(send, retry, deadline=deadline, on_retry=on_retry)).tracking_code
    except GatewayError as exc:
        if exc.status != "ALREADY_EXISTS":
            return landed(
                f"refused:{exc.status}", b"" if tx is None else tx_hash(tx), None, detail=exc.message
            )
        if tx is None:
            return landed("already-there", b"", time.monotonic())
        tracking_code = tx_hash(tx)
    cast_s = time.monotonic()
    if receipt is None:
        return landed("cast", tracking_code, cast_s)
    outcome, response, detail = await follow(client, tracking_code, receipt, retry, deadline=deadline)
    return landed(outcome, tracking_code, cast_s, response, detail)


class Pacer:
    """Cast i is due at start + i / rate. `catch_up=False`: a ballot whose slot has passed goes
    now and the schedule restarts from it (a closed loop that fell behind does not burst)."""

    def __init__(self, rate_per_s: float | None, *, catch_up: bool = True) -> None:
        assert rate_per_s is None or rate_per_s > 0, rate_per_s
        self._interval_s = 0.0 if rate_per_s is None else 1.0 / rate_per_s
        self._catch_up = catch_up
        self._next = time.monotonic()

    async def due(self) -> float:
        """Wait for the next slot; its time (the latency origin of the ballot cast in it)."""
        slot = self._next if self._catch_up else max(self._next, time.monotonic())
        self._next = slot + self._interval_s
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        return slot


async def run_load(
    items: Iterable[T],
    one: Callable[[T, float], Coroutine[object, object, R]],
    *,
    in_flight: int | None,
    pacer: Pacer | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_done: Callable[[R], None] = lambda _: None,
) -> list[R]:
    """`one(item, due)` for each item until `stop()`: with `in_flight` workers (closed loop), or,
    with `in_flight=None`, each started at its pacer slot whatever is still running (open loop).
    `on_done` sees each result as it comes (progress). The first exception cancels the rest and
    is raised."""
    assert in_flight is None or 1 <= in_flight <= MAX_IN_FLIGHT, in_flight
    assert in_flight is not None or pacer is not None, "an open loop needs a pace"
    source = iter(items)
    results: list[R] = []

    async def done(coroutine: Coroutine[object, object, R]) -> None:
        result = await coroutine
        results.append(result)
        on_done(result)

    async def due() -> float:
        return time.monotonic() if pacer is None else await pacer.due()

    try:
        async with asyncio.TaskGroup() as group:
            if in_flight is None:
                for item in source:
                    at = await due()
                    if stop():
                        break
                    group.create_task(done(one(item, at)))
            else:

                async def worker() -> None:
                    for item in source:  # the workers share one iterator: each item once
                        at = await due()
                        if stop():
                            return
                        await done(one(item, at))

                for _ in range(in_flight):
                    group.create_task(worker())
    except ExceptionGroup as failure:
        raise failure.exceptions[0] from None
    return results


class Background:
    """Receipt follows left running while the load casts on, at most `limit` at once: `admit()`
    before the cast (it waits for a free slot), then `spawn` the follow."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    async def admit(self) -> None:
        await self._slots.acquire()

    def release(self) -> None:
        self._slots.release()

    def spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        async def run() -> None:
            try:
                await coroutine
            finally:
                self._slots.release()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        await asyncio.gather(*list(self._tasks))
