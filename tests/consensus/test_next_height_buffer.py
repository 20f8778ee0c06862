"""Messages for height + 1 wait in a buffer per sender, bounded in messages and bytes (issue 19,
item 3: one validator's 4,096 signed next-height votes filled the shared buffer and honest ones
were dropped; 4,096 proposals of 64 KiB held 257 MiB); oversize payloads are refused on arrival.
A sender's buffer keeps one message a slot (round, proposal/prevote/precommit), so its own junk
cannot crowd out its genuine round-0 proposal (a flooder missed its turns that way)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from node.consensus import (
    MAX_ROUNDS_AHEAD,
    MESSAGE_OVERHEAD_BYTES,
    NEXT_HEIGHT_MESSAGES_PER_SENDER,
    Action,
    Consensus,
    Proposal,
    RecordEvidence,
    Start,
    Vote,
    VoteType,
    signing_bytes,
)
from node.consensus.state_machine import DEFAULT_MAX_PAYLOAD_BYTES
from node.consensus.votes import MAX_VOTES_PER_VALIDATOR
from tests.consensus.script import CHAIN_ID, TIMEOUTS, Harness, built_by, valid
from votestore.hashing import sha256

FLOOD = 4096


def _signed(harness: Harness, message: Proposal | Vote, signer: int) -> Proposal | Vote:
    return replace(message, signature=harness.signers[signer].sign(signing_bytes(CHAIN_ID, message)))


def _vote(harness: Harness, validator: int, round_: int, value: int) -> Vote:
    vote = Vote(VoteType(1 + value % 2), 2, round_, sha256(b"%d" % value), validator, b"")
    signed = _signed(harness, vote, validator)
    assert isinstance(signed, Vote)
    return signed


def _kept(core: Consensus, sent: int) -> int:
    """What the buffer holds of `sent` messages: every one was dropped on arrival, or kept (and
    maybe evicted later, which counts as a drop too)."""
    return sent - sum(core.dropped.values())


def test_a_flood_from_one_sender_does_not_crowd_out_another() -> None:
    harness = Harness()
    core = harness.core
    core.step(Start())
    for k in range(FLOOD):
        core.step(_vote(harness, 1, k % 64, k))
    flooded = dict(core.dropped)
    for sender in (2, 3):
        core.step(_vote(harness, sender, 0, 0))
    assert core.dropped == flooded, "an honest sender's next-height vote was dropped"
    assert _kept(core, FLOOD) == NEXT_HEIGHT_MESSAGES_PER_SENDER  # one a slot: 64 rounds, one type each


def test_next_height_proposals_are_bounded_in_bytes() -> None:
    harness = Harness()
    core = harness.core
    core.step(Start())
    payload = b"\x00" * 64 * 1024
    for k in range(FLOOD):
        data = payload + b"%d" % k
        proposal = Proposal(2, k % 64, -1, sha256(data), 1, b"", data)
        core.step(_signed(harness, proposal, 1))
    kept = _kept(core, FLOOD)
    held = kept * (len(payload) + MESSAGE_OVERHEAD_BYTES)
    print(f"one sender's {FLOOD} next-height proposals of 64 KiB: {kept} kept, {held / 2**20:.1f} MiB")
    assert held <= DEFAULT_MAX_PAYLOAD_BYTES + NEXT_HEIGHT_MESSAGES_PER_SENDER * MESSAGE_OVERHEAD_BYTES


def test_an_oversize_payload_is_refused_on_arrival() -> None:
    harness = Harness()
    core = Consensus(
        chain_id=CHAIN_ID,
        validators=harness.validators,
        index=0,
        signer=harness.signers[0],
        verifier=harness.verifier,
        valid=valid,
        built_by=built_by,
        timeouts=TIMEOUTS,
        max_payload_bytes=1000,
    )
    core.step(Start())
    data = b"\x00" * 1001
    for height in (1, 2):
        core.step(_signed(harness, Proposal(height, 0, -1, sha256(data), 1, b"", data), 1))
    assert core.dropped == {"oversize": 2}


def _flood(harness: Harness, core: Consensus, sender: int, height: int, messages: int) -> list[Action]:
    """`messages` signed messages for `height` that no correct sender sends: distinct votes over
    every round the core accepts there, and junk proposals for rounds 1 and up."""
    out: list[Action] = []
    for k in range(messages):
        round_ = k % (MAX_ROUNDS_AHEAD + 1)
        if k % 16 == 15 and round_ > 0:
            data = b"junk %d" % k
            message: Proposal | Vote = Proposal(height, round_, -1, sha256(data), sender, b"", data)
        else:
            message = Vote(VoteType(1 + k % 2), height, round_, sha256(b"junk %d" % k), sender, b"")
        out.extend(core.step(_signed(harness, message, sender)))
    return out


def test_a_flooders_own_round_0_proposal_survives_its_junk() -> None:
    """Validator 2 proposes at height 2, round 0. It floods this node, still at height 1, with
    next-height junk over every round before its genuine proposal arrives: the proposal must be
    kept (a junk message of a far round gives way) and count once height 1 is decided. Before,
    the full buffer dropped it and the flooder's turn was lost."""
    harness = Harness()
    core = harness.core
    core.step(Start())
    actions = _flood(harness, core, 2, 2, FLOOD)
    evidence = [a for a in actions if isinstance(a, RecordEvidence)]
    assert evidence, "conflicting next-height votes are evidence"
    assert len(evidence) <= 2 * (MAX_ROUNDS_AHEAD + 1)  # once per (round, type)
    before = Counter(core.dropped)
    harness.feed("proposal h=2 r=0 vr=-1 from=2 B")
    assert Counter(core.dropped) - before == Counter(buffer_evicted=1), "the genuine proposal was dropped"
    harness.feed("proposal h=1 r=0 vr=-1 from=1 A")
    for sender in (1, 2, 3):
        harness.feed(f"precommit h=1 r=0 from={sender} A")
    assert core.height == 2 and core.proposer(0) == 2
    assert "broadcast prevote h=2 r=0 B" in harness.feed("applied")


def test_junk_votes_do_not_keep_out_a_validators_vote_for_the_proposed_value() -> None:
    """At the current height a validator's votes in a round are bounded (equivocation); when its
    junk fills them, its vote for the proposed value takes the place of a junk one, so a node
    that needs that vote for its quorum still decides."""
    harness = Harness()
    core = harness.core
    core.step(Start())
    harness.feed("proposal h=1 r=0 vr=-1 from=1 A")
    for k in range(4 * MAX_VOTES_PER_VALIDATOR):
        junk = Vote(VoteType.PRECOMMIT, 1, 0, sha256(b"junk %d" % k), 3, b"")
        core.step(_signed(harness, junk, 3))
    harness.feed("precommit h=1 r=0 from=1 A")
    harness.feed("precommit h=1 r=0 from=2 A")
    assert "commit h=1 r=0 A signers=1,2,3" in harness.feed("precommit h=1 r=0 from=3 A")
