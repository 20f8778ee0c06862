"""Token-bucket rate limits keyed by client or voter, with a bounded number of tracked keys, and
the one table of the identity step's limits (`AttestLimits`), which the gateway's `[limits]` and
the stand-alone identity provider's both read.

Time comes from an injected monotonic clock (seconds) so tests drive it by hand. A key that has
not been seen for a while has a full bucket, so evicting the least recently used key when the
table is full only ever forgets limits that had mostly refilled.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final

from votestore.config_file import AtLeastOne, PositiveNumber, table

Clock = Callable[[], float]

MAX_TRACKED_KEYS: Final = 100_000
SECONDS_PER_HOUR: Final = 3600.0


@dataclass(frozen=True, slots=True)
class Rate:
    """`burst` tokens at most, refilled at `per_second`; one token per counted event."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        assert self.burst >= 1, self.burst
        assert self.per_second > 0, self.per_second


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class KeyedLimiter:
    """One token bucket per key (a client address, a voter's credential key)."""

    def __init__(self, rate: Rate, clock: Clock = time.monotonic, max_keys: int = MAX_TRACKED_KEYS) -> None:
        assert max_keys >= 1, max_keys
        self._rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def _refilled(self, key: Hashable) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self._rate.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(self._rate.burst, bucket.tokens + elapsed * self._rate.per_second)
            bucket.stamp = now
        assert 0 <= bucket.tokens <= self._rate.burst
        assert len(self._buckets) <= self._max_keys
        return bucket

    def allows(self, key: Hashable) -> bool:
        """True if one more event would be allowed now; takes nothing."""
        return self._refilled(key).tokens >= 1

    def take(self, key: Hashable) -> bool:
        """Count one event; False (and nothing taken) when the key is over its rate."""
        bucket = self._refilled(key)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def retry_after_s(self, key: Hashable) -> float:
        """Seconds until the next event would be allowed (0 if allowed now)."""
        missing = 1 - self._refilled(key).tokens
        return max(0.0, missing / self._rate.per_second)

    def __len__(self) -> int:
        return len(self._buckets)


@table
@dataclass(frozen=True, slots=True)
class AttestLimits:
    """The limits on the identity provider's step, wherever it is served (the gateway's
    `[limits]`, `votestore identity-provider run`'s): calls per client address, and failed
    second-factor checks per voter key — the budget a guesser of a voter's second factor gets,
    so it must be the same fact in both places."""

    client_requests_per_s: PositiveNumber = 50.0
    client_burst: AtLeastOne = 100.0
    identity_failures_per_hour: PositiveNumber = 5.0
    identity_failure_burst: AtLeastOne = 5.0

    def client_rate(self) -> Rate:
        return Rate(self.client_burst, self.client_requests_per_s)

    def identity_failure_rate(self) -> Rate:
        return Rate(self.identity_failure_burst, self.identity_failures_per_hour / SECONDS_PER_HOUR)
