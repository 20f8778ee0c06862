"""Key generation on the ledger: deals, complaints, disqualification, open."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from election import state_keys
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import (
    AUTHORITY,
    CHAIN_ID,
    COMPLAINT_WINDOW_MS,
    DEAL_DEADLINE_MS,
    WINDOW_END_MS,
    WINDOW_START_MS,
    seeded_key,
)
from votestore import txbuild
from votestore.crypto import dkg
from votestore.crypto.errors import ShareInvalid


def _deal_body(election: Election, dealer: int) -> election_pb2.DkgDeal:
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(dealer)).body)
    return tx.dkg_deal


def _resigned_deal(
    election: Election, dealer: int, change: Callable[[election_pb2.DkgDeal], object]
) -> bytes:
    body = _deal_body(election, dealer)
    change(body)
    return txbuild.signed(CHAIN_ID, election.trustees[dealer - 1].key, election_pb2.Tx(dkg_deal=body))


def _corrupt_share_to(recipient: int) -> Callable[[election_pb2.DkgDeal], None]:
    def change(body: election_pb2.DkgDeal) -> None:
        share = body.shares[recipient - 1]
        share.ciphertext = bytes([share.ciphertext[0] ^ 1]) + share.ciphertext[1:]

    return change


def test_all_deal_then_open_fixes_key_and_verification_keys() -> None:
    election = Election.created().opened()
    record = election.chain.state(ELECTION)
    assert record.phase == election_pb2.OPEN
    assert list(record.qualified_dealers) == [1, 2, 3]
    deals = [election.chain.app.deal(ELECTION, d) for d in (1, 2, 3)]
    assert all(deals)
    assert record.election_key == dkg.election_key([d for d in deals if d])
    assert len(record.aggregate) == 9
    for trustee in (1, 2, 3):
        expected = dkg.verification_key([d for d in deals if d], trustee)
        assert election.chain.app.verification_key(ELECTION, trustee) == expected
    assert record.opened_height == election.chain.app.height


def test_open_with_threshold_dealers_only() -> None:
    election = Election.created().opened(dealers=(1, 3))
    assert list(election.chain.state(ELECTION).qualified_dealers) == [1, 3]
    assert election.chain.app.verification_key(ELECTION, 2) is None


Scenario = Callable[[Election], bytes]

DEAL_AND_OPEN_REFUSALS: list[tuple[str, Scenario, str]] = [
    ("open with no deal", lambda e: e.open(), "KEYGEN_INCOMPLETE"),
    (
        "deal signed by another trustee",
        lambda e: txbuild.signed(CHAIN_ID, e.trustees[1].key, election_pb2.Tx(dkg_deal=_deal_body(e, 1))),
        "NOT_AUTHORIZED",
    ),
    (
        "dealer index outside trustees",
        lambda e: _resigned_deal(e, 1, lambda b: setattr(b, "dealer", 4)),
        "MALFORMED",
    ),
    ("deal missing a commitment", lambda e: _resigned_deal(e, 1, lambda b: b.commitments.pop()), "MALFORMED"),
    (
        "commitment not a point",
        lambda e: _resigned_deal(e, 1, lambda b: b.commitments.__setitem__(0, b"\xff" * 32)),
        "MALFORMED",
    ),
    ("deal missing a share", lambda e: _resigned_deal(e, 1, lambda b: b.shares.pop()), "MALFORMED"),
    (
        "ephemeral key the identity",
        lambda e: _resigned_deal(e, 1, lambda b: setattr(b, "ephemeral_key", bytes(32))),
        "MALFORMED",
    ),
    (
        "deal for unknown election",
        lambda e: _resigned_deal(e, 1, lambda b: setattr(b, "election_id", "nope")),
        "UNKNOWN_ELECTION",
    ),
    (
        "open by non-admin",
        lambda e: txbuild.open_election(CHAIN_ID, seeded_key("mallory"), ELECTION),
        "NOT_AUTHORIZED",
    ),
]


@pytest.mark.parametrize(
    ("why", "build", "expected"), DEAL_AND_OPEN_REFUSALS, ids=[r[0] for r in DEAL_AND_OPEN_REFUSALS]
)
def test_deal_and_open_refusals(why: str, build: Scenario, expected: str) -> None:
    election = Election.created()
    assert election.chain.one(build(election)) == expected, why
    assert list(election.chain.state(ELECTION).qualified_dealers) == []


def test_second_deal_is_duplicate_and_open_needs_threshold() -> None:
    election = Election.created()
    assert election.chain.one(election.deal(1)) == "OK"
    assert election.chain.one(election.deal(1)) == "DUPLICATE"
    assert election.chain.one(election.open()) == "KEYGEN_INCOMPLETE"
    assert election.chain.one(election.deal(2)) == "OK"
    assert election.chain.one(election.open()) == "KEYGEN_PENDING"
    assert election.chain.one(election.open(), DEAL_DEADLINE_MS + COMPLAINT_WINDOW_MS) == "OK"
    assert election.chain.one(election.deal(3)) == "WRONG_PHASE"
    assert election.chain.one(election.open()) == "WRONG_PHASE"


def test_open_after_window_end_refused() -> None:
    election = Election.created()
    election.chain.block([election.deal(1), election.deal(2)])
    assert election.chain.one(election.open(), WINDOW_END_MS) == "OUTSIDE_WINDOW"


def _complaint(election: Election, complainer: int, dealer: int) -> bytes:
    deal = election.chain.app.deal(ELECTION, dealer)
    assert deal is not None
    kit = election.trustees[complainer - 1]
    return txbuild.complaint(CHAIN_ID, kit.key, election.definition, deal, complainer, kit.secrets.enc_secret)


def test_proven_complaint_disqualifies_dealer() -> None:
    election = Election.created()
    bad_deal = _resigned_deal(election, 1, _corrupt_share_to(2))
    assert [r.code for r in election.chain.block([bad_deal, election.deal(2), election.deal(3)])] == [1, 1, 1]
    deal = election.chain.app.deal(ELECTION, 1)
    assert deal is not None
    with pytest.raises(ShareInvalid):
        dkg.open_share(
            ELECTION, election.definition.trustees, deal, 2, election.trustees[1].secrets.enc_secret
        )

    assert election.chain.one(_complaint(election, 2, 1)) == "OK"
    record = election.chain.state(ELECTION)
    assert list(record.qualified_dealers) == [2, 3]
    assert election.chain.kv.get(state_keys.disqualified(ELECTION, 1)) == b"2"
    assert election.chain.one(_complaint(election, 3, 1)) == "DUPLICATE"
    assert election.chain.one(election.deal(1)) == "DISQUALIFIED"

    assert election.chain.one(election.open(), WINDOW_START_MS) == "OK"
    deals = [election.chain.app.deal(ELECTION, d) for d in (2, 3)]
    assert election.chain.state(ELECTION).election_key == dkg.election_key([d for d in deals if d])
    assert election.chain.app.verification_key(ELECTION, 1) is None


def _forged_complaint(election: Election) -> bytes:
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(_complaint(election, 2, 1)).body)
    body = tx.dkg_complaint
    body.proof.response = bytes(32)
    return txbuild.signed(CHAIN_ID, election.trustees[1].key, election_pb2.Tx(dkg_complaint=body))


COMPLAINT_REFUSALS: list[tuple[str, Scenario, str]] = [
    ("false complaint against an honest dealer", lambda e: _complaint(e, 2, 1), "BAD_PROOF"),
    ("complaint with a forged proof", _forged_complaint, "BAD_PROOF"),
    (
        "complaint signed by someone else",
        lambda e: txbuild.signed(
            CHAIN_ID,
            e.trustees[0].key,
            election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(_complaint(e, 2, 1)).body),
        ),
        "NOT_AUTHORIZED",
    ),
    (
        "complaint against oneself",
        lambda e: txbuild.signed(
            CHAIN_ID,
            e.trustees[0].key,
            election_pb2.Tx(
                dkg_complaint=election_pb2.DkgComplaint(election_id=ELECTION, complainer=1, dealer=1)
            ),
        ),
        "MALFORMED",
    ),
    (
        "complaint against a dealer who has not dealt",
        lambda e: txbuild.signed(
            CHAIN_ID,
            e.trustees[0].key,
            election_pb2.Tx(
                dkg_complaint=election_pb2.DkgComplaint(election_id=ELECTION, complainer=1, dealer=3)
            ),
        ),
        "MALFORMED",
    ),
]


@pytest.mark.parametrize(
    ("why", "build", "expected"), COMPLAINT_REFUSALS, ids=[r[0] for r in COMPLAINT_REFUSALS]
)
def test_complaint_refusals_keep_dealer_qualified(why: str, build: Scenario, expected: str) -> None:
    election = Election.created()
    election.chain.block([election.deal(1), election.deal(2)])
    assert election.chain.one(build(election)) == expected, why
    assert list(election.chain.state(ELECTION).qualified_dealers) == [1, 2]


def test_complaint_after_open_is_wrong_phase() -> None:
    election = Election.created().opened()
    assert election.chain.one(_complaint(election, 2, 1)) == "WRONG_PHASE"


def test_roll_frozen_at_open() -> None:
    election = Election.created(voters=4).opened()
    late = txbuild.roll_append(CHAIN_ID, AUTHORITY, ELECTION, 1, [(bytes(32), "north")])
    assert election.chain.one(late) == "WRONG_PHASE"
    assert election.chain.state(ELECTION).roll_size == 4
