"""Bounds on long-lived public streams, in total and per client address.

A WatchCommits stream costs the node a task and a wait for as long as the client keeps it open;
1,000 of them from one client were all held. Beyond MAX_WATCH_STREAMS in all, or
MAX_WATCH_STREAMS_PER_CLIENT from one address, a new one is answered RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

MAX_WATCH_STREAMS: Final = 128
MAX_WATCH_STREAMS_PER_CLIENT: Final = 16
"""A gateway or a verifier watches with one stream per node; a few per address leaves room for
several on one host (a site's gateway and verifier, or tests on loopback)."""


def client_of(peer: str) -> str:
    """The address part of grpc's peer string, without the port: 'ipv4:10.0.0.7:51234' ->
    'ipv4:10.0.0.7', 'ipv6:[::1]:5' -> 'ipv6:[::1]'; anything else (a unix socket) as it is."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6") and ":" in rest:
        return f"{kind}:{rest.rsplit(':', 1)[0]}"
    return peer


class StreamQuota:
    """Open streams, in total and per client; `acquire` says why not when a bound is reached."""

    def __init__(self, total: int, per_client: int) -> None:
        assert 0 < per_client <= total
        self._total = total
        self._per_client = per_client
        self._open: Counter[str] = Counter()

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def acquire(self, client: str) -> str | None:
        """None and the stream is counted; else the reason it is refused (nothing counted)."""
        if self.open >= self._total:
            return f"the node serves at most {self._total} such streams at once"
        if self._open[client] >= self._per_client:
            return f"at most {self._per_client} such streams per client address"
        self._open[client] += 1
        return None

    def release(self, client: str) -> None:
        assert self._open[client] > 0, client
        self._open[client] -= 1
        if self._open[client] == 0:
            del self._open[client]
