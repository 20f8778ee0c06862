"""The seeded network: per message and destination it decides loss, duplication and delay.
Reordering follows from independent delays."""

from __future__ import annotations

import random
from dataclasses import dataclass

from node.consensus import Certificate
from node.sim.scenario import STABLE_MAX_DELAY_MS, Scenario


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """Catch-up's GetBlocks: heights first..last, asked of the peer `node.repair.plan_fetch` chose."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class FetchReply:
    """The blocks a peer serves for a `FetchRequest`: (certificate, payload) from `first` on."""

    first: int
    blocks: tuple[tuple[Certificate, bytes], ...]


class Network:
    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self._scenario = scenario
        self._rng = rng
        self.sent = 0
        self.dropped = 0
        self.duplicated = 0

    def delays(self, now_ms: int, src: int, dst: int) -> list[int]:
        """Delays in ms for each copy that will arrive: none if lost, two if duplicated."""
        scenario = self._scenario
        self.sent += 1
        if any(partition.separates(now_ms, src, dst) for partition in scenario.partitions):
            self.dropped += 1
            return []
        if now_ms >= scenario.heal_ms:
            return [self._rng.randint(1, STABLE_MAX_DELAY_MS)]
        if self._rng.randrange(1000) < scenario.drop_per_mille:
            self.dropped += 1
            return []
        copies = [self._rng.randint(1, scenario.max_delay_ms)]
        if self._rng.randrange(1000) < scenario.duplicate_per_mille:
            self.duplicated += 1
            copies.append(self._rng.randint(1, scenario.max_delay_ms))
        return copies
