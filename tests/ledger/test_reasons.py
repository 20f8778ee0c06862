"""One scenario per refusal reason, and a check that no ResultCode is left without one.

The detailed tables live next to each rule (test_definition, test_admin, test_keygen,
test_voting, test_auditing, test_counting); this file guarantees the reason list itself is covered.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from election.auditing import MAX_AUDITS_PER_VOTER
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election
from tests.ledger.harness import (
    ADMIN,
    AUTHORITY,
    CHAIN_ID,
    WINDOW_END_MS,
    Chain,
    create,
    definition,
    seeded_key,
)
from tests.ledger.test_auditing import audited
from votestore import txbuild


def _malformed() -> str:
    return Chain().one(b"\x0a\x03abc")


def _bad_signature() -> str:
    return Chain().one(txbuild.election_create("another-chain", ADMIN, definition()))


def _unknown_election() -> str:
    return Chain().one(txbuild.open_election(CHAIN_ID, ADMIN, "nope"))


def _wrong_phase() -> str:
    election = Election.created()
    return election.chain.one(election.close())


def _not_authorized() -> str:
    return Chain().one(txbuild.election_create(CHAIN_ID, seeded_key("mallory"), definition()))


def _not_in_roll() -> str:
    election = Election.created(voters=1).opened()
    return election.chain.one(election.ballot(5, ((0,), ())))


def _already_voted() -> str:
    election = Election.created(voters=1).opened()
    election.chain.one(election.ballot(0, ((0,), ())))
    return election.chain.one(election.ballot(0, ((1,), ())))


def _outside_window() -> str:
    election = Election.created(voters=1).opened()
    return election.chain.one(election.ballot(0, ((0,), ())), WINDOW_END_MS)


def _bad_proof() -> str:
    election = Election.created(voters=1).opened()
    assert election.chain.one(election.close()) == "OK"
    envelope = election_pb2.SignedTx.FromString(election.share(1))
    body = election_pb2.Tx.FromString(envelope.body).decryption_share
    body.parts[0].proof.response = bytes(32)
    return election.chain.one(
        txbuild.signed(CHAIN_ID, election.trustees[0].key, election_pb2.Tx(decryption_share=body))
    )


def _bad_attestation() -> str:
    election = Election.created(voters=1).opened()
    return election.chain.one(election.ballot(0, ((0,), ()), attest=lambda voter, digest: b""))


def _duplicate() -> str:
    chain = Chain()
    chain.one(create(definition()))
    return chain.one(create(definition()))


def _bad_definition() -> str:
    return Chain().one(create(definition(threshold=5)))


def _out_of_order() -> str:
    chain = Chain()
    chain.one(create(definition()))
    return chain.one(txbuild.roll_append(CHAIN_ID, AUTHORITY, "e1", 3, [(bytes(32), "north")]))


def _keygen_incomplete() -> str:
    election = Election.created(threshold=3)
    election.chain.block([election.deal(1), election.deal(2)])
    return election.chain.one(election.open())


def _keygen_pending() -> str:
    election = Election.created()
    election.chain.block([election.deal(1), election.deal(2), election.deal(3)])
    return election.chain.one(election.open())


def _bad_share() -> str:
    election = Election.created(voters=1).opened()
    assert election.chain.one(election.close()) == "OK"
    return election.chain.one(election.share(2, tally_height=1))


def _disqualified() -> str:
    election = Election.created(voters=1).opened(dealers=(1, 2))
    assert election.chain.one(election.close()) == "OK"
    record = election.chain.state(ELECTION)
    tx = txbuild.decryption_share(
        CHAIN_ID,
        election.trustees[2].key,
        ELECTION,
        3,
        election.secret_share(3),
        record.tally_height,
        record.aggregate,
    )
    return election.chain.one(tx)


def _audited() -> str:
    election = Election.created(voters=1).opened()
    publish, cast = audited(election, 0)
    assert election.chain.one(publish) == "OK"
    return election.chain.one(cast)


def _audit_limit() -> str:
    election = Election.created(voters=1).opened()
    for _ in range(MAX_AUDITS_PER_VOTER):
        assert election.chain.one(audited(election, 0)[0]) == "OK"
    return election.chain.one(audited(election, 0)[0])


SCENARIOS: dict[str, Callable[[], str]] = {
    "MALFORMED": _malformed,
    "BAD_SIGNATURE": _bad_signature,
    "UNKNOWN_ELECTION": _unknown_election,
    "WRONG_PHASE": _wrong_phase,
    "NOT_AUTHORIZED": _not_authorized,
    "NOT_IN_ROLL": _not_in_roll,
    "ALREADY_VOTED": _already_voted,
    "OUTSIDE_WINDOW": _outside_window,
    "BAD_PROOF": _bad_proof,
    "BAD_ATTESTATION": _bad_attestation,
    "DUPLICATE": _duplicate,
    "BAD_DEFINITION": _bad_definition,
    "OUT_OF_ORDER": _out_of_order,
    "KEYGEN_INCOMPLETE": _keygen_incomplete,
    "KEYGEN_PENDING": _keygen_pending,
    "BAD_SHARE": _bad_share,
    "DISQUALIFIED": _disqualified,
    "AUDITED": _audited,
    "AUDIT_LIMIT": _audit_limit,
}


def test_every_refusal_reason_has_a_scenario() -> None:
    refusals = set(election_pb2.ResultCode.keys()) - {"OK", "RESULT_CODE_UNSPECIFIED"}
    assert set(SCENARIOS) == refusals


@pytest.mark.parametrize("reason", sorted(SCENARIOS))
def test_reason_is_produced(reason: str) -> None:
    assert SCENARIOS[reason]() == reason
