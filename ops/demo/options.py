"""What a demo run may be asked for, checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from votestore.errors import VotestoreError

DEFAULT_VOTERS: Final = 1000
DEFAULT_NODES: Final = 4
DEFAULT_SEED: Final = 20261122
DEFAULT_IN_FLIGHT: Final = 32
"""Ballots cast at once: enough to keep 2 cores busy while each waits ~2 blocks for its certified
receipt (24: 9.9 ballots/s, median 1.8 s; 64: 16.6 ballots/s, median 3.4 s on 2 shared cores)."""
MIN_VOTERS: Final = 4
MAX_VOTERS: Final = 100_000


class DemoError(VotestoreError):
    """A step of the demo could not be done; the message says which."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    workdir: Path
    voters: int = DEFAULT_VOTERS
    nodes: int = DEFAULT_NODES
    keep: bool = False
    seed: int = DEFAULT_SEED
    in_flight: int = DEFAULT_IN_FLIGHT

    def __post_init__(self) -> None:
        if not MIN_VOTERS <= self.voters <= MAX_VOTERS:
            raise DemoError(f"--voters must be {MIN_VOTERS}..{MAX_VOTERS}")
        if self.nodes < 4:
            raise DemoError("--nodes must be at least 4 (one may fail: n >= 3f + 1 with f = 1)")
