"""Whatever arrives, the core never raises: bad messages are dropped and counted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from node.consensus import Proposal, Start, Vote, VoteType
from tests.consensus.script import Harness

INTS = st.one_of(st.integers(-3, 70), st.integers(-(2**70), 2**70))
IDS = st.one_of(st.none(), st.binary(min_size=0, max_size=40), st.just(b"\x07" * 32))

VOTES = st.builds(
    Vote,
    type=st.sampled_from([VoteType.PREVOTE, VoteType.PRECOMMIT, 0, 3]),
    height=INTS,
    round=INTS,
    block_id=IDS,
    validator=INTS,
    signature=st.binary(max_size=70),
)
PROPOSALS = st.builds(
    Proposal,
    height=INTS,
    round=INTS,
    valid_round=INTS,
    block_id=st.binary(max_size=40),
    proposer=INTS,
    signature=st.binary(max_size=70),
    payload=st.binary(max_size=20),
)


@settings(deadline=None, max_examples=300, derandomize=True)
@given(st.lists(st.one_of(VOTES, PROPOSALS), min_size=1, max_size=20))
def test_garbage_is_dropped_and_counted(messages: list[Vote | Proposal]) -> None:
    harness = Harness()
    harness.core.step(Start())
    for message in messages:
        assert harness.core.step(message) == []  # nothing forged can make it act
    assert sum(harness.core.dropped.values()) == len(messages)
    assert (harness.core.height, harness.core.round) == (1, 0)
