"""Time for the shell's services: a monotonic clock, wall-clock milliseconds and one-shot timers.

The services take a `Clock` and never read the system clock or asyncio's timers themselves, so a
test or the simulator can hand them `VirtualClock` and decide when everything happens. This
module is the only place the node's services meet `time` and asyncio's timers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What a service may ask of time."""

    def now(self) -> float:
        """Monotonic seconds: for intervals, never for what goes into a block."""
        ...

    def wall_ms(self) -> int:
        """Wall-clock milliseconds since the epoch: block times and the drift check."""
        ...

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` once, `delay_s` from now, unless the returned timer is cancelled."""
        ...


class AsyncioClock:
    """The node's clock: the system clocks and the running asyncio loop's timers."""

    def now(self) -> float:
        return time.monotonic()

    def wall_ms(self) -> int:
        return int(time.time() * 1000)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(delay_s, callback)


@dataclass(order=True, slots=True)
class _Due:
    at: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A clock that moves only when told (`advance`): timers fire in time order, ties in the
    order they were set. Wall time is `epoch_ms` plus the virtual seconds elapsed."""

    def __init__(self, epoch_ms: int = 1_700_000_000_000) -> None:
        self._now = 0.0
        self._epoch_ms = epoch_ms
        self._due: list[_Due] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall_ms(self) -> int:
        return self._epoch_ms + int(self._now * 1000)

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        assert delay_s >= 0, delay_s
        due = _Due(self._now + delay_s, next(self._seq), callback)
        heapq.heappush(self._due, due)
        return due

    def advance(self, seconds: float) -> int:
        """Move time on by `seconds`, firing every timer due by then (and those they set that
        fall due within it); returns how many fired."""
        until = self._now + seconds
        fired = 0
        while self._due and self._due[0].at <= until:
            due = heapq.heappop(self._due)
            if due.cancelled:
                continue
            self._now = due.at
            due.callback()
            fired += 1
        self._now = until
        return fired
