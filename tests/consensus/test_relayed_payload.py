"""A proposal's signature covers its block id, not its payload: a relay that forwards the
proposer's signature with a junk payload ahead of the genuine copy must not take the
(round, block id) slot, or the node prevotes nil and later drops the genuine copy as a
duplicate (issue 19, relay)."""

from __future__ import annotations

from dataclasses import replace

from node.consensus import Broadcast, Proposal, Vote, VoteType
from tests.consensus.script import Harness, block_id, describe, payload


def test_a_junk_payload_under_the_proposers_signature_takes_no_slot() -> None:
    harness = Harness()
    core = harness.core
    harness.run("start\n  timeout propose h=1 r=0 300ms\n")
    proposer = core.proposer(0)
    genuine = harness.sign(Proposal(1, 0, -1, block_id("A"), proposer, b"", payload("A")), proposer)
    assert isinstance(genuine, Proposal)
    junk = replace(genuine, payload=payload("A") + b"#junk")
    assert core.step(junk) == []
    assert core.dropped["bad_payload"] == 1
    actions = core.step(genuine)
    prevotes = [a.message for a in actions if isinstance(a, Broadcast) and isinstance(a.message, Vote)]
    assert [(v.type, v.block_id) for v in prevotes] == [(VoteType.PREVOTE, block_id("A"))], [
        describe(a) for a in actions
    ]
    assert core.dropped.get("duplicate", 0) == 0
