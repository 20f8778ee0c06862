"""Many seeded runs in a row, and the line that replays one of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from node.sim.runner import RunResult, Simulation
from node.sim.scenario import make_scenario


def replay_command(seed: int, nodes: int, byzantine: int, heights: int) -> str:
    return f"votestore sim --replay {seed} --nodes {nodes} --byzantine {byzantine} --heights {heights}"


def run_seed(seed: int, *, nodes: int, byzantine: int, heights: int, ed25519: bool = False) -> RunResult:
    return Simulation(make_scenario(seed, nodes, byzantine, heights), ed25519=ed25519).run()


def run_batch(first_seed: int, runs: int, *, nodes: int, byzantine: int, heights: int) -> Iterator[RunResult]:
    """Seeds first_seed, first_seed+1, …: run i is reproducible from its seed alone."""
    for seed in range(first_seed, first_seed + runs):
        yield run_seed(seed, nodes=nodes, byzantine=byzantine, heights=heights)


@dataclass(slots=True)
class Summary:
    runs: int = 0
    heights_committed: int = 0
    violations: int = 0
    failing_seeds: list[int] = field(default_factory=list)
    events: int = 0
    amnesia_double_votes: int = 0
    """Labelled apart: an amnesiac is Byzantine by the model, so its double votes are no
    violation, but they are what a guard against amnesia must bring to 0."""

    def add(self, result: RunResult) -> None:
        self.runs += 1
        self.heights_committed += result.heights_committed
        self.violations += len(result.violations)
        self.events += result.events
        self.amnesia_double_votes += result.amnesia_double_votes
        if result.violations:
            self.failing_seeds.append(result.seed)

    def line(self) -> str:
        return (
            f"runs={self.runs} heights_committed={self.heights_committed} "
            f"violations={self.violations} failing_runs={len(self.failing_seeds)} "
            f"amnesia_double_votes={self.amnesia_double_votes}"
        )
