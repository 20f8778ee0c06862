"""The seeded fault scheduler: which fault comes next, on which nodes, held how long.

Pure: a seed and the cluster size decide the whole sequence, so a failing run replays exactly. Kinds
come in rounds, each round a seeded shuffle of every kind, so even a short run meets each kind once.
Faults are applied one at a time, and none touches more than f validators' processes at once; a
split cuts the links between two halves (for n = 4 neither half has a quorum: commits stop until it
heals, which is what the stall figure measures).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    KILL = "kill"
    """kill -9 one validator, restart it after the hold."""
    PAUSE = "pause"
    """SIGSTOP one validator (a frozen machine), SIGCONT after the hold."""
    ISOLATE = "isolate"
    """Cut one validator from every other validator and from the gateway side."""
    SPLIT = "split"
    """Cut the links between two validators and the rest."""
    GATEWAY = "gateway"
    """kill -9 the gateway, start it again after the hold."""


SPLIT_SIDE: Final = 2


@dataclass(frozen=True, slots=True)
class Timing:
    hold_min_s: float
    hold_max_s: float
    gap_min_s: float
    gap_max_s: float

    def __post_init__(self) -> None:
        assert 0 < self.hold_min_s <= self.hold_max_s, self
        assert 0 <= self.gap_min_s <= self.gap_max_s, self


TEST_TIMING: Final = Timing(hold_min_s=1.5, hold_max_s=4.0, gap_min_s=0.5, gap_max_s=1.5)
RUN_TIMING: Final = Timing(hold_min_s=2.0, hold_max_s=15.0, gap_min_s=1.0, gap_max_s=5.0)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: Kind
    nodes: tuple[int, ...]
    """The validators it touches (for a split: one side); empty for the gateway."""
    hold_s: float
    gap_s: float
    """Quiet time after the cluster recovered, before the next fault."""

    def describe(self) -> str:
        where = ",".join(str(i) for i in self.nodes) or "gateway"
        return f"{self.kind.value}({where}) hold={self.hold_s:.1f}s"


class Scheduler:
    """`Scheduler(seed, n).next()` forever; the same seed gives the same faults."""

    def __init__(
        self, seed: int, n: int, timing: Timing = RUN_TIMING, kinds: frozenset[Kind] = frozenset(Kind)
    ) -> None:
        assert n >= 4 and kinds, (n, kinds)
        self._kinds = [k for k in Kind if k in kinds]
        """In declaration order, so a seed draws the same faults as before a kind was left out."""
        self._rng = random.Random(seed)
        self._n = n
        self._f = (n - 1) // 3
        self._timing = timing
        self._round: list[Kind] = []

    def next(self) -> Fault:
        if not self._round:
            self._round = list(self._kinds)
            self._rng.shuffle(self._round)
        kind = self._round.pop()
        nodes: tuple[int, ...]
        if kind == Kind.GATEWAY:
            nodes = ()
        elif kind == Kind.SPLIT:
            nodes = tuple(sorted(self._rng.sample(range(self._n), SPLIT_SIDE)))
        else:
            nodes = (self._rng.randrange(self._n),)
        assert kind == Kind.SPLIT or len(nodes) <= self._f, (kind, nodes)
        t = self._timing
        hold = round(self._rng.uniform(t.hold_min_s, t.hold_max_s), 1)
        gap = round(self._rng.uniform(t.gap_min_s, t.gap_max_s), 1)
        return Fault(kind, nodes, hold, gap)
