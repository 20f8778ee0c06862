"""What an attacker costs: the virtual time to commit a number of heights on a fault-free network,
with one validator running a mix of attacks, over the same schedule with every validator honest.
Issue 19's bound: within 2x."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

from node.sim.runner import RunResult, Simulation
from node.sim.scenario import (
    STABLE_MAX_DELAY_MS,
    Attack,
    FaultMix,
    Flood,
    Scenario,
    make_scenario,
    with_attacks,
)

RATIO_BOUND: Final = 2.0


def all_mixes() -> list[frozenset[Attack]]:
    """Every non-empty set of attacks, singles first."""
    attacks = list(Attack)
    return [
        frozenset(mix) for size in range(1, len(attacks) + 1) for mix in itertools.combinations(attacks, size)
    ]


def fault_free(seed: int, nodes: int, heights: int) -> Scenario:
    """The seed's scenario with a synchronous network, no crash and no Byzantine validator."""
    scenario = make_scenario(seed, nodes, 0, heights, attacks=False)
    return replace(
        scenario,
        mix=FaultMix.CLEAN,
        heal_ms=0,
        drop_per_mille=0,
        duplicate_per_mille=0,
        max_delay_ms=STABLE_MAX_DELAY_MS,
        partitions=(),
        crashes=(),
    )


@dataclass(frozen=True, slots=True)
class Ratio:
    seed: int
    mix: frozenset[Attack]
    attacker: int
    fault_free_ms: int
    attacked_ms: int
    attacked: RunResult

    @property
    def ratio(self) -> float:
        return self.attacked_ms / self.fault_free_ms

    def line(self) -> str:
        names = "+".join(sorted(self.mix))
        return (
            f"mix={names} seed={self.seed} attacker={self.attacker} fault_free_ms={self.fault_free_ms} "
            f"attacked_ms={self.attacked_ms} ratio={self.ratio:.2f} "
            f"violations={len(self.attacked.violations)} "
            f"amnesia_double_votes={self.attacked.amnesia_double_votes}"
        )


def attack_ratio(
    seed: int, nodes: int, heights: int, mix: frozenset[Attack], flood: Flood | None = None
) -> Ratio:
    """One attacker (chosen by the seed) running `mix`, against the same fault-free schedule."""
    base = fault_free(seed, nodes, heights)
    honest = Simulation(base).run()
    attacker = seed % nodes
    attacked_scenario = with_attacks(base, {attacker: mix})
    if flood is not None:
        attacked_scenario = replace(attacked_scenario, flood=flood)
    attacked = Simulation(attacked_scenario).run()
    return Ratio(seed, mix, attacker, honest.virtual_ms, attacked.virtual_ms, attacked)


def ratios(
    first_seed: int,
    runs: int,
    nodes: int,
    heights: int,
    mixes: list[frozenset[Attack]],
    flood: Flood | None = None,
) -> Iterator[Ratio]:
    for mix in mixes:
        for seed in range(first_seed, first_seed + runs):
            yield attack_ratio(seed, nodes, heights, mix, flood)
