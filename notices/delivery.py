"""Drives the queue through the senders: at least once, repeated as little as the channel allows.

Per notice: claimed (committed `sending`) -> one send -> `sent`/`delivered`, or on a transient
failure queued again after a backoff, or `failed(reason)` on a permanent failure or after
`max_attempts`. A crash between the claim and the outcome leaves the row `sending`; the next start
queues it again (`NoticeStore.recover`) with the same idempotency key, so a provider that honours
keys sends it once, and SMTP at most once more per notice that was in flight.

Retries are a small explicit rule kept IN THE QUEUE (attempts and next_at are columns), not a
retry library's in-memory loop: a retry must survive the restart of the process, and a notice
waiting out its backoff must not hold one of the `concurrency` send slots. Backoff: base * 2^(n-1)
capped, with "equal jitter" (half fixed, half random) drawn from a seeded RNG so a test replays.

Rate limits: a token bucket per sender (`Sender.rate_per_s`, 0 = off), taken just before a send.
Every loop is bounded: `run_limit_s` for the whole run, `send_timeout_s` per send.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from notices.metrics import NoticeMetrics
from notices.model import Channel, Notice, unpack
from notices.senders.base import Accepted, Outgoing, ReportReader, Sender, SendFailed
from notices.store import NoticeStore, Summary

log = logging.getLogger("votestore.notices")

MAX_CONCURRENCY: Final = 256
REPORT_BATCH: Final = 256


@dataclass(frozen=True, slots=True)
class Policy:
    concurrency: int = 8
    """Sends in flight at once (and so the most SMTP duplicates one crash can cause)."""
    max_attempts: int = 6
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    send_timeout_s: float = 30.0
    idle_poll_s: float = 0.2
    run_limit_s: float = 3600.0
    report_wait_s: float = 0.0
    """After the sends, poll delivery reports this long (0: leave it to `notices reports`)."""

    def __post_init__(self) -> None:
        assert 0 < self.concurrency <= MAX_CONCURRENCY
        assert self.max_attempts >= 1 and 0 < self.backoff_base_s <= self.backoff_cap_s
        assert self.send_timeout_s > 0 and self.idle_poll_s > 0 and self.run_limit_s > 0


def backoff_s(attempt: int, policy: Policy, rng: random.Random) -> float:
    """Wait before attempt `attempt + 1`: equal jitter over a capped doubling."""
    assert attempt >= 1
    ceiling: float = min(policy.backoff_cap_s, policy.backoff_base_s * 2.0 ** min(attempt - 1, 30))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class RateLimit:
    """A token bucket of one second's burst; `rate_per_s` 0 lets everything through."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        assert rate_per_s >= 0
        self._rate = rate_per_s
        self._clock = clock
        self._tokens = max(rate_per_s, 1.0)
        self._at = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self._rate == 0:
            return
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(max(self._rate, 1.0), self._tokens + (now - self._at) * self._rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)


@dataclass(frozen=True, slots=True)
class RunResult:
    recovered: int
    """Notices that were `sending` when the previous run stopped (queued again)."""
    summary: Summary


class Delivery:
    """One run over the queue; `on_change` is called after each outcome (progress bars)."""

    def __init__(
        self,
        store: NoticeStore,
        senders: Mapping[Channel, Sender],
        policy: Policy,
        *,
        rng: random.Random | None = None,
        metrics: NoticeMetrics | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._senders = senders
        self._policy = policy
        self._rng = rng or random.Random()
        self._metrics = metrics or NoticeMetrics()
        self._on_change = on_change or (lambda: None)
        self._limits = {channel: RateLimit(s.rate_per_s) for channel, s in senders.items()}

    async def run(self) -> RunResult:
        policy = self._policy
        recovered = self._store.recover()
        if recovered:
            self._metrics.recovered.inc(recovered)
            log.warning("notices recovered=%d (in flight at the last stop; may be sent again)", recovered)
        deadline = time.monotonic() + policy.run_limit_s
        in_flight: set[asyncio.Task[None]] = set()
        while time.monotonic() < deadline:
            free = policy.concurrency - len(in_flight)
            if free > 0:
                for notice in self._store.claim(free, time.time()):
                    in_flight.add(asyncio.create_task(self._one(notice)))
            if not in_flight:
                due = self._store.next_due()
                if due is None:
                    break
                await asyncio.sleep(min(max(due - time.time(), 0.0), policy.idle_poll_s))
                continue
            self._metrics.in_flight.set(len(in_flight))
            done, _ = await asyncio.wait(
                in_flight, timeout=policy.idle_poll_s, return_when=asyncio.FIRST_COMPLETED
            )
            in_flight -= done
            for task in done:
                task.result()  # a bug in _one surfaces here, never silently
        if in_flight:
            await asyncio.wait(in_flight)  # each is bounded by send_timeout_s
        self._metrics.in_flight.set(0)
        if policy.report_wait_s > 0:
            await self.poll_reports_until(time.monotonic() + policy.report_wait_s)
        return RunResult(recovered, self._store.summary())

    async def _one(self, notice: Notice) -> None:
        sender = self._senders.get(notice.channel)
        if sender is None:
            self._store.mark_failed(notice.row_id, f"no_sender_for_{notice.channel.value}")
            self._metrics.failed.labels(notice.channel.value, "no_sender").inc()
            self._on_change()
            return
        outgoing = Outgoing(
            notice.channel, notice.address, notice.idem_key, unpack(self._store.box.open(notice.sealed))
        )
        await self._limits[notice.channel].acquire()
        started = time.monotonic()
        try:
            accepted: Accepted | SendFailed = await asyncio.wait_for(
                sender.send(outgoing), self._policy.send_timeout_s
            )
        except TimeoutError:
            accepted = SendFailed("timeout", transient=True)
        except SendFailed as failure:
            accepted = failure
        channel = notice.channel.value
        self._metrics.send_latency.labels(channel).observe(time.monotonic() - started)
        if isinstance(accepted, Accepted):
            self._store.mark_sent(notice.row_id, accepted.provider_id, delivered=accepted.final)
            self._metrics.sent.labels(channel).inc()
            if accepted.final:
                self._metrics.delivered.labels(channel).inc()
            log.info("notice sent key=%s channel=%s attempt=%d", notice.idem_key, channel, notice.attempts)
        elif accepted.transient and notice.attempts < self._policy.max_attempts:
            wait = backoff_s(notice.attempts, self._policy, self._rng)
            self._store.mark_retry(notice.row_id, accepted.reason, time.time() + wait)
            self._metrics.retries.labels(channel).inc()
            log.info(
                "notice retry key=%s channel=%s reason=%s attempt=%d wait_s=%.2f",
                notice.idem_key,
                channel,
                accepted.reason,
                notice.attempts,
                wait,
            )
        else:
            self._store.mark_failed(notice.row_id, accepted.reason)
            self._metrics.failed.labels(channel, accepted.reason).inc()
            log.warning(
                "notice failed key=%s channel=%s reason=%s attempts=%d",
                notice.idem_key,
                channel,
                accepted.reason,
                notice.attempts,
            )
        self._on_change()

    async def poll_reports_until(self, deadline: float) -> int:
        """Poll delivery reports of `sent` notices until none is left or the deadline passes."""
        changed = 0
        readers = {c: s for c, s in self._senders.items() if isinstance(s, ReportReader)}
        while time.monotonic() < deadline:
            changed += await poll_reports(self._store, readers, self._metrics, self._policy.concurrency)
            self._on_change()
            if not any(self._store.awaiting_report(c, 1) for c in readers):
                break
            await asyncio.sleep(self._policy.idle_poll_s)
        return changed


async def poll_reports(
    store: NoticeStore,
    readers: Mapping[Channel, ReportReader],
    metrics: NoticeMetrics | None = None,
    concurrency: int = 8,
) -> int:
    """One pass over the notices awaiting a delivery report, `concurrency` status reads at once;
    returns how many changed state."""
    assert 0 < concurrency <= MAX_CONCURRENCY
    slots = asyncio.Semaphore(concurrency)

    async def one(channel: Channel, reader: ReportReader, provider_id: str) -> int:
        async with slots:
            word = await reader.report(provider_id)
        if word.delivered is None:
            return 0
        changed = store.mark_report(provider_id, word.delivered, word.reason)
        if metrics is not None and changed:
            if word.delivered:
                metrics.delivered.labels(channel.value).inc()
            else:
                metrics.failed.labels(channel.value, word.reason).inc()
        return changed

    reads = [
        one(channel, reader, notice.provider_id)
        for channel, reader in readers.items()
        for notice in store.awaiting_report(channel, REPORT_BATCH)
    ]
    return sum(await asyncio.gather(*reads))
