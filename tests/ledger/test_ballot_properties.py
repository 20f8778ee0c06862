"""Property: for any sequence of ballots (repeats, outsiders) and a close anywhere, in any block
split, each result is what the first-ballot-counts model predicts and the decrypted count equals
the sum of the counted ballots' choices."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import Chain, code

ROLL = 6
OUTSIDERS = 2
VERSIONS = 2
CLOSE = (-1, -1)

Selections = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Template:
    election: Election
    ballots: dict[tuple[int, int], bytes]
    choices: dict[tuple[int, int], Selections]


@functools.cache
def template() -> Template:
    """One keyed election and every (voter, version) ballot, encrypted once."""
    rng = random.Random(7)
    election = Election.created(voters=ROLL).opened()
    choices: dict[tuple[int, int], Selections] = {}
    ballots = {}
    for voter in range(ROLL + OUTSIDERS):
        for version in range(VERSIONS):
            pick = ((rng.randrange(4),), tuple(sorted(rng.sample(range(5), rng.randint(0, 2)))))
            choices[voter, version] = pick
            ballots[voter, version] = election.ballot(voter, pick)
    return Template(election, ballots, choices)


def _fresh(t: Template) -> Election:
    chain = t.election.chain.replay()
    return Election(chain, t.election.trustees, t.election.definition)


ACTION = st.one_of(
    st.tuples(st.integers(0, ROLL + OUTSIDERS - 1), st.integers(0, VERSIONS - 1)),
    st.just(CLOSE),
)


@settings(deadline=None, max_examples=20)
@given(blocks=st.lists(st.lists(ACTION, max_size=5), min_size=1, max_size=4))
def test_results_follow_first_ballot_counts(blocks: list[list[tuple[int, int]]]) -> None:
    t = template()
    election = _fresh(t)
    closed = False
    counted: dict[int, Selections] = {}
    for actions in blocks:
        expected = []
        txs = []
        for voter, version in actions:
            if (voter, version) == CLOSE:
                txs.append(election.close())
                expected.append("WRONG_PHASE" if closed else "OK")
                closed = True
                continue
            txs.append(t.ballots[voter, version])
            if closed:
                expected.append("WRONG_PHASE")
            elif voter >= ROLL:
                expected.append("NOT_IN_ROLL")
            elif voter in counted:
                expected.append("ALREADY_VOTED")
            else:
                expected.append("OK")
                counted[voter] = t.choices[voter, version]
        assert [code(r) for r in election.chain.block(txs)] == expected

    if not closed:
        assert election.chain.one(election.close()) == "OK"
    assert [code(r) for r in election.chain.block([election.share(1), election.share(3)])] == ["OK", "OK"]
    record = election.chain.state(ELECTION)
    assert record.phase == election_pb2.COUNTED
    mayor, council = [0] * 4, [0] * 5
    for first, second in counted.values():
        for c in first:
            mayor[c] += 1
        for c in second:
            council[c] += 1
    assert [list(c.counts) for c in record.result.contests] == [mayor, council]
    assert record.ballots == len(counted) == sum(g.ballots for g in record.turnout)


def test_template_replays_to_the_same_key() -> None:
    t = template()
    replica: Chain = t.election.chain.replay()
    assert replica.state(ELECTION).election_key == t.election.key
