"""Seeded schedules across fault mixes and Byzantine behaviours (≤ f): no checker finds anything.
And the checkers are not blind: beyond the model they find what they must."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

import pytest

from node.sim import Behaviour, FaultMix, RunResult, Scenario, Simulation, make_scenario, run_seed
from node.sim.batch import run_batch
from node.sim.scenario import Attack, Crash, Partition

HEIGHTS = 5
# (nodes, byzantine, runs): 1,000 schedules in all, well under a minute on one core.
MATRIX = [(4, 0, 200), (4, 1, 300), (7, 0, 100), (7, 1, 100), (7, 2, 150), (10, 0, 40), (10, 3, 110)]


@pytest.mark.parametrize(("nodes", "byzantine", "runs"), MATRIX)
def test_seeded_schedules_have_no_violation(nodes: int, byzantine: int, runs: int) -> None:
    first_seed = 1000 * nodes + 100 * byzantine
    results = list(run_batch(first_seed, runs, nodes=nodes, byzantine=byzantine, heights=HEIGHTS))
    failures = [(r.seed, v.kind, v.detail) for r in results for v in r.violations]
    assert failures == [], failures
    assert all(r.heights_committed >= HEIGHTS for r in results)
    # The faults really happened: lost messages, and (with Byzantine nodes) dropped junk and evidence.
    assert sum(r.messages_dropped for r in results) > 0
    if byzantine:
        drops: Counter[str] = Counter()
        for r in results:
            drops.update(r.core_drops)
        assert {"bad_signature", "not_validator", "future_height", "round_too_far"} <= set(drops)
        assert sum(r.evidence for r in results) > 0


def test_the_matrix_covers_every_fault_mix_and_behaviour() -> None:
    mixes: set[FaultMix] = set()
    behaviours: set[Behaviour] = set()
    attacked: set[Attack] = set()
    for nodes, byzantine, runs in MATRIX:
        first_seed = 1000 * nodes + 100 * byzantine
        for seed in range(first_seed, first_seed + runs):
            scenario = make_scenario(seed, nodes, byzantine, HEIGHTS)
            mixes.add(scenario.mix)
            behaviours.update(scenario.behaviours.values())
            for attacks in scenario.attacks.values():
                attacked.update(attacks)
    assert mixes == set(FaultMix)
    assert behaviours == set(Behaviour)
    assert attacked == set(Attack)


def _first_violation(kind: str, results: Iterable[RunResult]) -> int | None:
    return next((r.seed for r in results if any(v.kind == kind for v in r.violations)), None)


@pytest.mark.parametrize(("nodes", "byzantine"), [(4, 2), (7, 3)])
def test_f_plus_1_twins_break_agreement_and_the_checker_sees_it(nodes: int, byzantine: int) -> None:
    results = run_batch(0, 300, nodes=nodes, byzantine=byzantine, heights=2)  # stops at the first
    assert _first_violation("agreement", results) is not None


def test_a_node_that_forgets_what_it_signed_is_caught_double_signing() -> None:
    """Plant amnesia in honest nodes: every crash wipes the last-signed record. The double-sign
    checker must notice."""
    results = []
    for seed in range(400):
        scenario = make_scenario(seed, 4, 0, 3)
        if scenario.crashes:
            forgetting = tuple(replace(crash, forget=True) for crash in scenario.crashes)
            results.append(Simulation(replace(scenario, crashes=forgetting)).run())
    assert _first_violation("double_sign", results) is not None


def test_more_than_f_silent_validators_stall_and_liveness_checker_says_so() -> None:
    scenario = make_scenario(5, 4, 0, 2)
    scenario = replace(scenario, behaviours={0: Behaviour.SILENT, 1: Behaviour.SILENT})
    result = Simulation(scenario).run()
    assert [v.kind for v in result.violations] == ["liveness"]


def test_a_seed_replays_identically() -> None:
    traces: list[list[str]] = [[], []]
    results = [Simulation(make_scenario(77, 7, 2, 3), trace=trace.append).run() for trace in traces]
    assert results[0] == results[1]
    assert traces[0] == traces[1] and len(traces[0]) > 100


def test_short_schedule_with_real_ed25519_signatures() -> None:
    for seed in (3, 4):
        result = run_seed(seed, nodes=4, byzantine=1, heights=2, ed25519=True)
        assert result.violations == ()
        assert result.heights_committed >= 2  # a node behind fetches all it lacks at once


# Schedules that once failed, with what they taught. Each must stay clean. Scenarios are spelled
# out where the generator has changed since, so they stay the very schedule that failed.
REGRESSIONS = {
    "restarted locked proposer lost its valid value and polka (soak)": make_scenario(1011683, 7, 2, 4),
    "restart after persisting a precommit, before sending it (torn crash)": make_scenario(75, 4, 1, 4),
    "equivocator hid the polka from all but one node (needs proof-of-lock relay)": make_scenario(23, 4, 1, 3),
    "checker missed an equivocator's proposal that left only in a Status answer (soak)": make_scenario(
        1073171, 4, 1, 4
    ),
    "restart after precommitting lost its prevote; a silent peer and a missed prevote: no polka": (
        make_scenario(300117, 4, 1, 5)
    ),
    "precommit quorum held but its round's proposal missed, node moved on: value from another round": (
        make_scenario(511190, 4, 1, 5)
    ),
    "restarted node's own prevote missing from its quorum": Scenario(
        seed=56,
        size=4,
        heights=3,
        mix=FaultMix.CHAOS,
        behaviours={0: Behaviour.SILENT},
        instances=(0, 1, 2, 3),
        heal_ms=3466,
        drop_per_mille=214,
        duplicate_per_mille=32,
        max_delay_ms=343,
        partitions=(Partition(1572, 2684, (frozenset({1}), frozenset({0, 2, 3}))),),
        crashes=(Crash(3, 277, 691),),
    ),
}


@pytest.mark.parametrize("scenario", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_regression_schedule(scenario: Scenario) -> None:
    result = Simulation(scenario).run()
    assert result.violations == ()
    assert result.heights_committed >= scenario.heights
