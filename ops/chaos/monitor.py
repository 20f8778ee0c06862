"""Commit progress seen from the host side: a background sampler of every node's height, and pure
functions over its samples for stalls.

A stall is time in which no node's height rose. After each fault heals, `resume_after` says how long
until the highest height rose again: the figure the issue bounds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import grpc

from proto.votestore.v1 import node_pb2, node_pb2_grpc

SAMPLE_INTERVAL_S: Final = 0.2
MAX_SAMPLES: Final = 100_000
"""At 5 samples a second: over 5 hours, far beyond any run."""


@dataclass(frozen=True, slots=True)
class Sample:
    at_s: float
    """Monotonic seconds."""
    heights: tuple[int | None, ...]
    """Per node; None when it did not answer."""

    @property
    def top(self) -> int:
        return max((h for h in self.heights if h is not None), default=0)


def longest_stall(samples: Sequence[Sample]) -> tuple[float, float]:
    """(seconds, starting at) of the longest stretch with no rise in the top height."""
    best, best_at = 0.0, samples[0].at_s if samples else 0.0
    since, top = (samples[0].at_s, samples[0].top) if samples else (0.0, 0)
    for sample in samples[1:]:
        if sample.top > top:
            since, top = sample.at_s, sample.top
        elif sample.at_s - since > best:
            best, best_at = sample.at_s - since, since
    return best, best_at


def resume_after(samples: Sequence[Sample], healed_at_s: float) -> float | None:
    """Seconds from `healed_at_s` until the top height first rose above its value then; None if it
    never did within the samples."""
    before = [s for s in samples if s.at_s <= healed_at_s]
    top = before[-1].top if before else 0
    for sample in samples:
        if sample.at_s > healed_at_s and sample.top > top:
            return sample.at_s - healed_at_s
    return None


class Monitor:
    """Samples `read_heights()` every SAMPLE_INTERVAL_S in a thread until `stop()`.

    The thread only appends to its own list; readers take `samples()` after `stop()` or a copy."""

    def __init__(self, read_heights: Callable[[], tuple[int | None, ...]]) -> None:
        self._read = read_heights
        self._samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and len(self._samples) < MAX_SAMPLES:
            sample = Sample(time.monotonic(), self._read())
            with self._lock:
                self._samples.append(sample)
            self._stop.wait(SAMPLE_INTERVAL_S)

    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


STATUS_TIMEOUT_S: Final = 0.5


class HeightReader:
    """Asks every node for its height at once (GetStatus futures), over channels it keeps open."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self._channels = [grpc.insecure_channel(a) for a in addresses]
        self._stubs = [node_pb2_grpc.NodeStub(c) for c in self._channels]

    def __call__(self) -> tuple[int | None, ...]:
        calls = [
            s.GetStatus.future(node_pb2.GetStatusRequest(), timeout=STATUS_TIMEOUT_S) for s in self._stubs
        ]
        heights: list[int | None] = []
        for call in calls:
            try:
                heights.append(call.result().height)
            except grpc.RpcError:
                heights.append(None)
        return tuple(heights)

    def close(self) -> None:
        for channel in self._channels:
            channel.close()


def heights(addresses: Sequence[str]) -> tuple[int | None, ...]:
    """Every node's height now (None where it does not answer)."""
    reader = HeightReader(addresses)
    try:
        return reader()
    finally:
        reader.close()


def top_height(addresses: Sequence[str]) -> int:
    """The highest height any node answers with now (0 if none answers)."""
    return max((h for h in heights(addresses) if h is not None), default=0)
