"""The next-height buffer on its own (node/consensus/next_height.py): one message a slot, the
first conflict of a vote slot handed back as evidence, bounds in messages and bytes, and the
highest rounds evicted for lower ones — never more than a message that fits needs."""

from __future__ import annotations

import pytest

from node.consensus import Proposal, Vote, VoteType
from node.consensus.next_height import MESSAGE_OVERHEAD_BYTES, Added, NextHeightBuffer, Outcome
from votestore.hashing import sha256

SENDER = 1
MESSAGES = 8
ROUNDS = 65


def _vote(round_: int, value: int, kind: VoteType = VoteType.PREVOTE, sender: int = SENDER) -> Vote:
    return Vote(kind, 2, round_, sha256(b"%d" % value), sender, b"sig")


def _proposal(round_: int, payload: bytes) -> Proposal:
    return Proposal(2, round_, -1, sha256(payload), SENDER, b"sig", payload)


def _buffer(max_bytes: int = MESSAGES * MESSAGE_OVERHEAD_BYTES, messages: int = MESSAGES) -> NextHeightBuffer:
    return NextHeightBuffer(messages=messages, max_bytes=max_bytes, max_rounds=ROUNDS)


def test_one_message_a_slot_and_the_first_vote_conflict_is_evidence() -> None:
    buffer = _buffer()
    first = _vote(0, 1)
    assert buffer.add(first).outcome == Outcome.KEPT
    assert buffer.add(first).outcome == Outcome.DUPLICATE
    conflict = buffer.add(_vote(0, 2))
    assert (conflict.outcome, conflict.evidence) == (Outcome.CONFLICT, first)
    assert buffer.add(_vote(0, 3)) == Added(Outcome.CONFLICT)  # evidence once a slot
    assert buffer.add(_vote(0, 1, VoteType.PRECOMMIT)).outcome == Outcome.KEPT  # another slot
    assert buffer.add(_proposal(0, b"a")).outcome == Outcome.KEPT
    assert buffer.add(_proposal(0, b"b")) == Added(Outcome.CONFLICT)
    assert buffer.add(_vote(0, 9, sender=2)).outcome == Outcome.KEPT  # another sender
    assert list(buffer.evidenced()) == [(0, VoteType.PREVOTE, SENDER)]
    assert buffer.held(SENDER) == 3
    assert first in buffer and _vote(0, 2) not in buffer


def test_a_full_buffer_evicts_its_highest_round_for_a_lower_one() -> None:
    buffer = _buffer()
    for round_ in range(10, 10 + MESSAGES):
        assert buffer.add(_vote(round_, round_)).outcome == Outcome.KEPT
    refused = buffer.add(_vote(10 + MESSAGES, 0))
    assert refused.outcome == Outcome.FULL and refused.evicted == 0
    assert buffer.add(_vote(10 + MESSAGES - 1, 0, VoteType.PRECOMMIT)).outcome == Outcome.FULL  # not above
    kept = buffer.add(_vote(0, 0))
    assert (kept.outcome, kept.evicted) == (Outcome.KEPT, 1)
    assert _vote(10 + MESSAGES - 1, 10 + MESSAGES - 1) not in buffer
    assert buffer.held(SENDER) == MESSAGES
    drained = buffer.drain()
    assert [m.round for m in drained] == [0, *range(10, 10 + MESSAGES - 1)]
    assert buffer.held(SENDER) == 0


def test_bytes_are_bounded_and_nothing_is_evicted_for_a_message_that_cannot_fit() -> None:
    payload = 1000
    buffer = _buffer(max_bytes=2 * MESSAGE_OVERHEAD_BYTES + payload, messages=2)
    assert buffer.add(_proposal(5, b"x" * payload)).outcome == Outcome.KEPT
    assert buffer.add(_vote(6, 6)).outcome == Outcome.KEPT
    # A lower round's proposal of the same size fits only once round 5's is gone; round 6's vote
    # goes first (the highest round), then round 5's proposal.
    kept = buffer.add(_proposal(4, b"y" * payload))
    assert (kept.outcome, kept.evicted) == (Outcome.KEPT, 2)
    assert buffer.held_bytes(SENDER) == MESSAGE_OVERHEAD_BYTES + payload
    # Larger than the whole bound: refused, and nothing given up for it.
    huge = buffer.add(_proposal(0, b"z" * (payload + 2 * MESSAGE_OVERHEAD_BYTES)))
    assert (huge.outcome, huge.evicted) == (Outcome.FULL, 0)
    # Round 3's proposal needs round 4's bytes, and round 4 is above it: round 4 gives way.
    assert buffer.add(_proposal(3, b"w" * payload)) == Added(Outcome.KEPT, evicted=1)
    assert buffer.held(SENDER) == 1 and buffer.held_bytes(SENDER) <= buffer.max_bytes


def test_a_round_outside_the_window_is_a_bug_of_the_caller() -> None:
    with pytest.raises(AssertionError):
        _buffer().add(_vote(ROUNDS, 0))
