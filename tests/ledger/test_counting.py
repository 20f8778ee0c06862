"""Decryption shares bound to the tally height, and the result recorded once t are in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import CHAIN_ID, code
from votestore import txbuild
from votestore.crypto.decryption import partial_decrypt

CHOICES = {0: ((0,), (0, 1)), 1: ((2,), ()), 2: ((2,), (4,)), 3: ((3,), (1, 4))}
EXPECTED = [[1, 0, 2, 1], [1, 2, 0, 0, 2]]


@pytest.fixture
def closed() -> Election:
    election = Election.created(voters=len(CHOICES)).opened()
    results = election.chain.block([election.ballot(v, c) for v, c in CHOICES.items()])
    assert {code(r) for r in results} == {"OK"}
    assert election.chain.one(election.close()) == "OK"
    return election


@pytest.mark.parametrize("present", [(1, 2), (1, 3), (3, 2)])
def test_threshold_shares_record_the_result(closed: Election, present: tuple[int, int]) -> None:
    first, second = present
    assert closed.chain.one(closed.share(first)) == "OK"
    assert closed.chain.state(ELECTION).phase == election_pb2.CLOSED
    assert closed.chain.one(closed.share(second)) == "OK"
    record = closed.chain.state(ELECTION)
    assert record.phase == election_pb2.COUNTED
    result = record.result
    assert [list(c.counts) for c in result.contests] == EXPECTED
    assert [c.contest_id for c in result.contests] == ["mayor", "council"]
    assert (result.ballots_counted, result.tally_height) == (4, record.tally_height)
    assert list(result.trustees) == sorted(present)
    absent = ({1, 2, 3} - set(present)).pop()
    assert closed.chain.one(closed.share(absent)) == "WRONG_PHASE"


def _share_with(
    e: Election,
    trustee: int,
    secret_of: int,
    change: Callable[[list[election_pb2.PartialDecryption]], object] = len,
) -> bytes:
    record = e.chain.state(ELECTION)
    parts = partial_decrypt(ELECTION, trustee, e.secret_share(secret_of), record.aggregate)
    change(parts)
    body = election_pb2.DecryptionShare(
        election_id=ELECTION, trustee=trustee, tally_height=record.tally_height, parts=parts
    )
    return txbuild.signed(CHAIN_ID, e.trustees[trustee - 1].key, election_pb2.Tx(decryption_share=body))


Scenario = Callable[[Election], bytes]

SHARE_REFUSALS: list[tuple[str, Scenario, str]] = [
    (
        "share for another tally height",
        lambda e: e.share(1, e.chain.state(ELECTION).tally_height - 1),
        "BAD_SHARE",
    ),
    ("share missing a part", lambda e: _share_with(e, 1, 1, lambda p: p.pop()), "BAD_SHARE"),
    ("share made with another trustee's key", lambda e: _share_with(e, 2, 1), "BAD_PROOF"),
    (
        "share signed by another trustee",
        lambda e: txbuild.signed(
            CHAIN_ID,
            e.trustees[0].key,
            election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(e.share(2)).body),
        ),
        "NOT_AUTHORIZED",
    ),
    (
        "trustee index outside trustees",
        lambda e: txbuild.signed(
            CHAIN_ID,
            e.trustees[0].key,
            election_pb2.Tx(decryption_share=election_pb2.DecryptionShare(election_id=ELECTION, trustee=9)),
        ),
        "MALFORMED",
    ),
]


@pytest.mark.parametrize(("why", "build", "expected"), SHARE_REFUSALS, ids=[r[0] for r in SHARE_REFUSALS])
def test_share_refusals_record_nothing(closed: Election, why: str, build: Scenario, expected: str) -> None:
    assert closed.chain.one(build(closed)) == expected, why
    assert closed.chain.app.decryption_share(ELECTION, 1) is None
    assert closed.chain.app.decryption_share(ELECTION, 2) is None


def test_same_trustee_twice_is_duplicate(closed: Election) -> None:
    share = closed.share(1)
    assert [code(r) for r in closed.chain.block([share, share])] == ["OK", "DUPLICATE"]
    assert closed.chain.state(ELECTION).phase == election_pb2.CLOSED


def test_share_before_close_is_wrong_phase() -> None:
    election = Election.created(voters=1).opened()
    assert election.chain.one(election.share(1, 1)) == "WRONG_PHASE"


def test_share_from_non_dealer_is_disqualified() -> None:
    election = Election.created(voters=1).opened(dealers=(1, 2))
    assert election.chain.one(election.close()) == "OK"
    record = election.chain.state(ELECTION)
    parts = partial_decrypt(ELECTION, 3, election.secret_share(3), record.aggregate)
    body = election_pb2.DecryptionShare(
        election_id=ELECTION, trustee=3, tally_height=record.tally_height, parts=parts
    )
    tx = txbuild.signed(CHAIN_ID, election.trustees[2].key, election_pb2.Tx(decryption_share=body))
    assert election.chain.one(tx) == "DISQUALIFIED"


def test_empty_election_counts_zero() -> None:
    election = Election.created(voters=3).opened()
    assert election.chain.one(election.close()) == "OK"
    assert [code(r) for r in election.chain.block([election.share(1), election.share(2)])] == ["OK", "OK"]
    result = election.chain.state(ELECTION).result
    assert [list(c.counts) for c in result.contests] == [[0] * 4, [0] * 5]
    assert result.ballots_counted == 0
