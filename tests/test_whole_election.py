"""A whole election in one process, no network: 3 trustees with t = 2, one absent at decryption;
1,000 ballots with known choices over a vote-for-1-of-4 and a vote-for-up-to-2-of-5 contest; the
recorded result must equal the plaintext counts (docs/design.md invariant 5, correct count)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, group_of, voter_key
from tests.ledger.harness import WINDOW_END_MS, code

SEED = 20261122
BALLOTS = 1000
ABSTAINERS = 17
BALLOTS_PER_BLOCK = 200
PRESENT_TRUSTEES = (1, 3)
ABSENT_TRUSTEE = 2

Selections = tuple[tuple[int, ...], tuple[int, ...]]


def _choices(rng: random.Random) -> Selections:
    mayor = (rng.randrange(4),)
    council = tuple(sorted(rng.sample(range(5), rng.randint(0, 2))))
    return mayor, council


@dataclass
class WholeElection:
    election: Election
    choices: dict[int, Selections]
    refusals: list[str]


@pytest.fixture(scope="module")
def whole() -> WholeElection:
    rng = random.Random(SEED)
    election = Election.created(n=3, threshold=2, voters=BALLOTS + ABSTAINERS).opened()
    choices = {voter: _choices(rng) for voter in range(BALLOTS)}
    ballots = [election.ballot(voter, c) for voter, c in choices.items()]  # encrypted once
    for at in range(0, BALLOTS, BALLOTS_PER_BLOCK):
        results = election.chain.block(ballots[at : at + BALLOTS_PER_BLOCK])
        assert {code(r) for r in results} == {"OK"}
    refusals = [
        election.chain.one(election.ballot(0, ((3,), ()))),  # a second ballot: the first counts
        election.chain.one(election.ballot(BALLOTS + ABSTAINERS + 1, ((0,), ()))),  # not in the roll
        election.chain.one(election.ballot(BALLOTS, ((0,), ())), WINDOW_END_MS),  # after the window
    ]
    assert election.chain.state(ELECTION).phase == election_pb2.CLOSED
    shares = [election.share(t) for t in PRESENT_TRUSTEES]
    assert [code(r) for r in election.chain.block(shares)] == ["OK", "OK"]
    return WholeElection(election, choices, refusals)


def test_result_equals_plaintext_counts(whole: WholeElection) -> None:
    mayor, council = [0] * 4, [0] * 5
    for first, second in whole.choices.values():
        for choice in first:
            mayor[choice] += 1
        for choice in second:
            council[choice] += 1
    record = whole.election.chain.state(ELECTION)
    assert record.phase == election_pb2.COUNTED
    result = record.result
    assert [list(c.counts) for c in result.contests] == [mayor, council]
    assert sum(mayor) == BALLOTS
    assert result.ballots_counted == BALLOTS
    assert list(result.trustees) == list(PRESENT_TRUSTEES)
    assert result.tally_height == record.tally_height


def test_refusals_and_turnout(whole: WholeElection) -> None:
    assert whole.refusals == ["ALREADY_VOTED", "NOT_IN_ROLL", "OUTSIDE_WINDOW"]
    record = whole.election.chain.state(ELECTION)
    expected = {"north": 0, "south": 0}
    for voter in whole.choices:
        expected[group_of(voter)] += 1
    assert {t.group: t.ballots for t in record.turnout} == expected
    assert sum(t.roll_size for t in record.turnout) == BALLOTS + ABSTAINERS
    assert all(whole.election.chain.app.has_voted(ELECTION, voter_key(v)) for v in (0, BALLOTS - 1))
    assert not whole.election.chain.app.has_voted(ELECTION, voter_key(BALLOTS))


def test_absent_trustee_late_share_is_refused(whole: WholeElection) -> None:
    late = whole.election.share(ABSENT_TRUSTEE)
    assert code(whole.election.chain.app.check_tx(late)) == "WRONG_PHASE"


def test_replica_replaying_the_blocks_agrees(whole: WholeElection) -> None:
    chain = whole.election.chain
    replica = chain.replay()
    assert [o.app_hash for o in replica.outcomes] == [o.app_hash for o in chain.outcomes]
    assert [o.results for o in replica.outcomes] == [o.results for o in chain.outcomes]
    assert replica.kv.snapshot() == chain.kv.snapshot()
