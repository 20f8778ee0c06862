"""Five schedules of the attack-mix soak that stalled at height 0 (issue 19): a validator crashed
after it prevoted and precommitted in round 0; its prevote had reached one peer, or only the
silent Byzantine validator, and after the restart it sent its precommit alone. The round never
got 2f+1 prevotes at the peer that missed one, so nobody moved on.

Two repairs hold them: the last-signed record keeps the round's own prevote and a restart sends it
again (seed 511719 needs this one: nobody else held the prevote), and a stuck peer is answered
with the other validators' votes held for its round too (`node.repair.resend`)."""

from __future__ import annotations

import pytest

from node.sim import make_scenario, run_seed

HEIGHTS = 5
STALLED = [(500240, 4, 1), (510277, 4, 1), (510846, 4, 1), (511719, 4, 1), (610166, 7, 2)]


@pytest.mark.parametrize(("seed", "nodes", "byzantine"), STALLED)
def test_a_schedule_that_stalled_after_a_mid_round_crash_commits(
    seed: int, nodes: int, byzantine: int
) -> None:
    scenario = make_scenario(seed, nodes, byzantine, HEIGHTS)
    assert scenario.crashes, "the schedule no longer crashes a validator: the seed lost its case"
    result = run_seed(seed, nodes=nodes, byzantine=byzantine, heights=HEIGHTS)
    assert [(v.kind, v.detail) for v in result.violations] == []
    assert result.heights_committed >= HEIGHTS
