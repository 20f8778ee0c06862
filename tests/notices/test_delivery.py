"""The delivery loop with a scripted sender (a unit test of notices.delivery alone): retries with
backoff up to the cap, permanent failures by reason, opt-out, rate limit, concurrency bound."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest

from notices.delivery import Delivery, Policy, RateLimit, backoff_s
from notices.metrics import NoticeMetrics
from notices.model import Channel, Message, State, idempotency_key, pack
from notices.senders.base import Accepted, Outgoing, SendFailed
from notices.store import NoticeStore, Planned

FAST = Policy(
    concurrency=4, max_attempts=3, backoff_base_s=0.01, backoff_cap_s=0.02, idle_poll_s=0.01, run_limit_s=30
)


class Scripted:
    """Fails each address as its script says ("t" transient, "p" permanent), then accepts."""

    name = "scripted"

    def __init__(self, scripts: dict[str, str], rate_per_s: float = 0.0, final: bool = True) -> None:
        self.scripts = scripts
        self.rate_per_s = rate_per_s
        self.final = final
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.times: list[float] = []

    async def send(self, outgoing: Outgoing) -> Accepted:
        n = self.calls[outgoing.address]
        self.calls[outgoing.address] += 1
        self.times.append(time.monotonic())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.002)
            step = self.scripts.get(outgoing.address, "")[n : n + 1]
            if step:
                raise SendFailed("http_503" if step == "t" else "http_400", transient=step == "t")
            return Accepted(f"id-{outgoing.address}", final=self.final)
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        return None


def _queue(store: NoticeStore, addresses: list[str]) -> None:
    store.add_campaign("e/opening", "e", "opening")
    message = pack(Message("s", "t", "SMS"))
    planned = [
        Planned(a, Channel.SMS, a, idempotency_key("e", "e/opening", a, Channel.SMS), message)
        for a in addresses
    ]
    store.enqueue("e/opening", planned)


def test_retries_then_gives_up_with_reason(store: NoticeStore) -> None:
    _queue(store, ["ok", "flaky", "dead", "refused"])
    sender = Scripted({"flaky": "tt", "dead": "ttttt", "refused": "p"})
    metrics = NoticeMetrics()
    delivery = Delivery(store, {Channel.SMS: sender}, FAST, rng=random.Random(1), metrics=metrics)
    summary = asyncio.run(delivery.run()).summary.as_dict()
    assert summary["delivered"] == 2 and summary["failed_by_reason"] == {"http_503": 1, "http_400": 1}
    assert sender.calls == {"ok": 1, "flaky": 3, "dead": 3, "refused": 1}  # max_attempts caps "dead"
    sample = metrics.registry.get_sample_value
    assert sample("votestore_notices_sent_total", {"channel": "sms"}) == 2
    assert sample("votestore_notices_retries_total", {"channel": "sms"}) == 4
    assert sample("votestore_notices_failed_total", {"channel": "sms", "reason": "http_503"}) == 1


def test_concurrency_is_a_bound(store: NoticeStore) -> None:
    _queue(store, [f"a{n}" for n in range(40)])
    sender = Scripted({})
    asyncio.run(Delivery(store, {Channel.SMS: sender}, FAST).run())
    assert sum(sender.calls.values()) == 40 and 1 < sender.most_in_flight <= FAST.concurrency


def test_opted_out_and_unserved_channels(store: NoticeStore) -> None:
    _queue(store, ["a", "b"])
    store.opt_out("b")
    store.add_campaign("e/result", "e", "result")
    key = idempotency_key("e", "e/result", "c", Channel.MAIL)
    store.enqueue("e/result", [Planned("c", Channel.MAIL, "c@x", key, pack(Message("s", "t", "")))])
    sender = Scripted({})
    summary = asyncio.run(Delivery(store, {Channel.SMS: sender}, FAST).run()).summary.as_dict()
    assert sender.calls == {"a": 1}
    assert summary["opted_out"] == 1 and summary["failed_by_reason"] == {"no_sender_for_mail": 1}


def test_sent_awaits_a_report(store: NoticeStore) -> None:
    _queue(store, ["a"])
    asyncio.run(Delivery(store, {Channel.SMS: Scripted({}, final=False)}, FAST).run())
    assert [n.provider_id for n in store.in_state(State.SENT)] == ["id-a"]
    assert store.mark_report("id-a", delivered=True) == 1


def test_rate_limit_spaces_sends(store: NoticeStore) -> None:
    _queue(store, [f"a{n}" for n in range(8)])
    sender = Scripted({}, rate_per_s=4.0)
    asyncio.run(Delivery(store, {Channel.SMS: sender}, FAST).run())
    span = sender.times[-1] - sender.times[0]
    assert span >= 0.9  # a burst of 4 (one second's tokens), then 4 more at 0.25 s each
    limit = RateLimit(50.0)

    async def take(n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            await limit.acquire()
        return time.monotonic() - started

    assert asyncio.run(take(100)) >= (100 - 50 - 1) / 50


@pytest.mark.parametrize("attempt", [1, 2, 5, 40])
def test_backoff_is_capped_with_equal_jitter(attempt: int) -> None:
    policy = Policy(backoff_base_s=1.0, backoff_cap_s=60.0)
    ceiling = min(60.0, 2.0 ** (attempt - 1))
    waits = [backoff_s(attempt, policy, random.Random(seed)) for seed in range(50)]
    assert all(ceiling / 2 <= w <= ceiling for w in waits)
    assert backoff_s(attempt, policy, random.Random(3)) == backoff_s(attempt, policy, random.Random(3))
