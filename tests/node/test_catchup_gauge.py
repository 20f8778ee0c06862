"""`votestore_node_catching_up` (the VotestoreNodeCatchingUp alert reads it): 1 while a peer's
claimed height makes this node fetch, 0 once none is ahead."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from node import catchup, repair
from node.clock import VirtualClock
from node.metrics import NodeMetrics


@dataclass
class _Store:
    height: int


@dataclass
class _Peers:
    heights: dict[int, int]


@dataclass
class _Shell:
    """What node/catchup.py reads of a shell."""

    clock: VirtualClock
    store: _Store
    peers: _Peers
    catching_up: bool = False
    metrics: NodeMetrics = field(default_factory=NodeMetrics)


def _gauge(shell: _Shell) -> float:
    value = shell.metrics.registry.get_sample_value("votestore_node_catching_up")
    assert value is not None, "the gauge is exported"
    return value


def test_the_gauge_follows_whether_a_fetch_is_due() -> None:
    clock = VirtualClock()
    shell = _Shell(clock, _Store(10), _Peers({1: 10, 2: 10}))
    lag, choice = catchup.Lag(), repair.CatchupPeers()

    async def fetch(shell: _Shell, peer: int, address: str, first: int, last: int) -> tuple[int, bool]:
        shell.store.height = last
        return last - first + 1, False

    async def tick() -> int | None:
        clock.advance(catchup.CATCHUP_TICK_S)
        return await catchup.catch_up_once(shell, {1: "", 2: ""}, lag, choice, fetch)  # type: ignore[arg-type]

    assert asyncio.run(tick()) is None
    assert _gauge(shell) == 0
    shell.peers.heights[2] = 15
    assert asyncio.run(tick()) == 2
    assert _gauge(shell) == 1
    assert shell.store.height == 15
    assert asyncio.run(tick()) is None
    assert _gauge(shell) == 0
