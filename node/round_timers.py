"""The core's round timeouts as timers: `ScheduleTimeout` becomes a one-shot timer on the
injected `Clock` that feeds its `Timeout` event back when it fires. The node's shell and the
simulator's node both run this service (on the asyncio clock and on virtual time)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from node.clock import Clock, Timer
from node.consensus import Event, ScheduleTimeout, Timeout


class RoundTimers:
    """Timers still to fire are kept, so `stop()` cancels every one (a stopping node feeds the
    core nothing more)."""

    def __init__(self, clock: Clock, feed: Callable[[Event], None]) -> None:
        self._clock = clock
        self._feed = feed
        self._timers: dict[int, Timer] = {}
        self._keys = itertools.count()

    def schedule(self, action: ScheduleTimeout) -> None:
        event = Timeout(action.kind, action.height, action.round)
        key = next(self._keys)

        def fire() -> None:
            del self._timers[key]
            self._feed(event)

        self._timers[key] = self._clock.call_later(action.duration_ms / 1000, fire)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers = {}

    def __len__(self) -> int:
        return len(self._timers)
