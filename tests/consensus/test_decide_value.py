"""Line 49 decides v on 2f+1 precommits for id(v) in some round; the proposal only supplies v.
A node that missed that round's proposal but holds another round's proposal of the same value
must still decide: peers resend only messages from a stuck node's round on, and the nodes that
precommitted may wait for a precommit it never signed (sim seed 511190 stalled so)."""

from __future__ import annotations

from node.consensus import Start
from tests.consensus.script import Harness


def test_a_precommit_quorum_decides_with_the_value_from_another_rounds_proposal() -> None:
    harness = Harness()
    harness.core.step(Start())
    harness.feed("proposal h=1 r=0 vr=-1 from=1 A")  # round 1's proposal (from 2) never arrives
    harness.feed("precommit h=1 r=1 from=1 A")
    harness.feed("precommit h=1 r=1 from=2 A")
    assert "commit h=1 r=1 A signers=1,2,3" in harness.feed("precommit h=1 r=1 from=3 A")
    assert harness.core.height == 2


def test_no_decision_without_any_proposal_of_the_value() -> None:
    harness = Harness()
    harness.core.step(Start())
    harness.feed("proposal h=1 r=0 vr=-1 from=1 B")
    for sender in (1, 2, 3):
        actions = harness.feed(f"precommit h=1 r=1 from={sender} A")
        assert not any(action.startswith("commit") for action in actions)
    assert harness.core.height == 1
