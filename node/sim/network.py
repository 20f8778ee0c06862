"""The seeded network: per message and destination it decides loss, duplication and delay.
Reordering follows from independent delays."""

from __future__ import annotations

import random
from dataclasses import dataclass

from node.consensus import Certificate
from node.sim.scenario import STABLE_MAX_DELAY_MS, Scenario


@dataclass(frozen=True, slots=True)
class Status:
    """The shell's "where are you" when it has made no progress for a while: the chosen peer
    answers with the decided block (if the sender is behind), peers at its height with their own
    messages as `node.repair.resend` picks them."""

    instance: int
    height: int
    round: int
    fetch: bool = False
    """The receiver is the peer `CatchupPeers` chose: it answers with the decided block if the
    sender is behind it (the others answer only with their messages of the sender's height)."""


@dataclass(frozen=True, slots=True)
class SyncBlock:
    """A decided block with its certificate, fed to the receiver's core as `Decided`."""

    certificate: Certificate
    payload: bytes


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
