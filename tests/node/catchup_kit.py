"""What catch-up reads of a shell, for unit tests of node/catchup.py that replace the fetch at the
module's boundary: this node's height, the peers' claimed heights, the clock and the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.clock import AsyncioClock
from node.metrics import NodeMetrics


@dataclass
class Store:
    height: int


@dataclass
class Peers:
    heights: dict[int, int]


@dataclass
class CatchupShell:
    peers: Peers
    store: Store
    catching_up: bool = False
    clock: AsyncioClock = field(default_factory=AsyncioClock)
    metrics: NodeMetrics = field(default_factory=NodeMetrics)


def catchup_shell(mine: int, heights: dict[int, int]) -> CatchupShell:
    """A node at height `mine` whose peers claim `heights`."""
    return CatchupShell(Peers(heights), Store(mine))
