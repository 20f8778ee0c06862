"""Issue 18, attack 5: no single role can put a voter's ballot on the ledger.

Each test is the attack as that role would make it, with the project's own transaction builders,
refused by the state machine with its reason. On main before this change the administrator's roll
append and every unattested ballot were accepted (OK).
"""

from __future__ import annotations

from collections.abc import Callable

import nacl.signing
import pytest

from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential, voter_key
from tests.ledger.harness import (
    ADMIN,
    AUTHORITY,
    CHAIN_ID,
    POLICY,
    PROVIDER,
    Chain,
    attester,
    create,
    definition,
    seeded_key,
)
from votestore import txbuild
from votestore.crypto import attestation
from votestore.crypto.credential import derive_credential_key, new_credential

CHOICE = ((0,), ())
OTHER_CHOICE = ((1,), (2,))


def _body(tx: bytes) -> election_pb2.Ballot:
    return election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(tx).body).ballot


def _resign(voter: int, body: election_pb2.Ballot) -> bytes:
    """The ballot signed by voter `voter`'s credential key, as a holder of that credential would."""
    key = derive_credential_key(credential(voter), ELECTION)
    return txbuild.sign_ballot(CHAIN_ID, key, body)


# ------------------------------------------------------------------ the administrator


def test_administrator_cannot_append_a_key_for_an_abstainer() -> None:
    election = Election.created(voters=2)
    own = derive_credential_key(new_credential(), ELECTION)
    tx = txbuild.roll_append(CHAIN_ID, ADMIN, ELECTION, 1, [(bytes(own.verify_key), "north")])
    assert election.chain.one(tx) == "NOT_AUTHORIZED"
    assert election.chain.state(ELECTION).roll_size == 2
    assert not election.chain.app.in_roll(ELECTION, bytes(own.verify_key))


def test_administrator_cannot_substitute_an_abstainers_key() -> None:
    """Append the abstainer's own key again (the roll has no removal): refused for who signs, not
    only as a duplicate."""
    election = Election.created(voters=2)
    tx = txbuild.roll_append(CHAIN_ID, ADMIN, ELECTION, 1, [(voter_key(1), "south")])
    result = election.chain.block([tx])[0]
    assert election_pb2.ResultCode.Name(result.code) == "NOT_AUTHORIZED", result
    assert "credential authority" in result.detail


def test_administrator_cannot_vote_with_an_attestation_it_makes() -> None:
    """Even with a roll key, a ballot needs the identity provider's attestation: the admin's own
    signature in its place is refused."""
    election = Election.created(voters=1).opened()
    forged = election.ballot(0, CHOICE, attest=attester(ELECTION, ADMIN))
    assert election.chain.one(forged) == "BAD_ATTESTATION"


# ------------------------------------------------------------------ the credential authority


def test_credential_authority_cannot_cast_without_an_attestation() -> None:
    election = Election.created(voters=2).opened()
    body = _body(election.ballot(1, CHOICE))
    body.ClearField("attestation")
    result = election.chain.block([_resign(1, body)])[0]
    assert election_pb2.ResultCode.Name(result.code) == "BAD_ATTESTATION", result
    assert "no identity-provider attestation" in result.detail
    assert not election.chain.app.has_voted(ELECTION, voter_key(1))


def test_credential_authority_cannot_attest_its_own_ballot() -> None:
    election = Election.created(voters=2).opened()
    tx = election.ballot(1, CHOICE, attest=attester(ELECTION, AUTHORITY))
    assert election.chain.one(tx) == "BAD_ATTESTATION"


# ------------------------------------------------------------------ the identity provider / gateway


def test_identity_provider_alone_cannot_sign_as_the_voter() -> None:
    """Attesting is all it can do: its own key is on no roll."""
    election = Election.created(voters=1).opened()
    body = _body(election.ballot(0, CHOICE))
    tx = txbuild.sign_ballot(CHAIN_ID, PROVIDER, body)
    assert election.chain.one(tx) == "NOT_IN_ROLL"


def test_attestation_replayed_from_another_voter_is_refused() -> None:
    election = Election.created(voters=3).opened()
    voter_ones = _body(election.ballot(1, CHOICE))
    body = _body(election.ballot(2, CHOICE))
    body.attestation = voter_ones.attestation
    result = election.chain.block([_resign(2, body)])[0]
    assert election_pb2.ResultCode.Name(result.code) == "BAD_ATTESTATION", result
    assert "for this voter and this ballot" in result.detail


def test_attestation_replayed_onto_another_ballot_of_the_same_voter_is_refused() -> None:
    """The gateway keeps an attestation the voter asked for and puts it on a ballot of its own
    making (it cannot sign as the voter either; here a credential holder tries it)."""
    election = Election.created(voters=2).opened()
    attested = _body(election.ballot(1, CHOICE))
    other = _body(election.ballot(1, OTHER_CHOICE, attest=lambda voter, digest: b"\x00" * 64))
    other.attestation = attested.attestation
    assert election.chain.one(_resign(1, other)) == "BAD_ATTESTATION"


def test_attestation_for_another_election_or_chain_is_refused() -> None:
    election = Election.created(voters=1).opened()
    for elsewhere in (
        attestation.local_attester(PROVIDER, CHAIN_ID, "other-election"),
        attestation.local_attester(PROVIDER, "other-chain", ELECTION),
    ):
        assert election.chain.one(election.ballot(0, CHOICE, attest=elsewhere)) == "BAD_ATTESTATION"


def test_honest_ballot_with_both_parties_counts() -> None:
    election = Election.created(voters=1).opened()
    assert election.chain.one(election.ballot(0, CHOICE)) == "OK"
    assert election.chain.state(ELECTION).ballots == 1


def test_cheap_checks_before_the_attestation() -> None:
    """A key off the roll is refused for that, not for its (missing) attestation."""
    election = Election.created(voters=1).opened()
    assert election.chain.one(election.ballot(9, CHOICE, attest=lambda v, d: b"")) == "NOT_IN_ROLL"


# ------------------------------------------------------------------ the definition


def _key(role: nacl.signing.SigningKey) -> bytes:
    return bytes(role.verify_key)


ROLE_REFUSALS: list[tuple[str, Callable[[election_pb2.ElectionCreate], None], str]] = [
    ("no credential authority", lambda d: d.ClearField("credential_authority"), "credential authority key"),
    ("no identity provider", lambda d: d.ClearField("identity_provider"), "identity provider key"),
    ("authority is the admin", lambda d: setattr(d, "credential_authority", _key(ADMIN)), "genesis admin"),
    ("provider is the admin", lambda d: setattr(d, "identity_provider", _key(ADMIN)), "genesis admin"),
    ("same key for both", lambda d: setattr(d, "identity_provider", _key(AUTHORITY)), "the same key"),
    (
        "authority is a trustee",
        lambda d: setattr(d, "credential_authority", d.trustees[0].sign_key),
        "trustee's sign key",
    ),
]


@pytest.mark.parametrize(("why", "mutate", "reason"), ROLE_REFUSALS, ids=[r[0] for r in ROLE_REFUSALS])
def test_definition_must_name_two_separate_roles(
    why: str, mutate: Callable[[election_pb2.ElectionCreate], None], reason: str
) -> None:
    body = definition()
    mutate(body)
    result = Chain(POLICY).block([create(body)])[0]
    assert election_pb2.ResultCode.Name(result.code) == "BAD_DEFINITION", why
    assert reason in result.detail, (why, result.detail)


def test_a_stranger_key_cannot_append_either() -> None:
    chain = Chain()
    assert chain.one(create(definition())) == "OK"
    tx = txbuild.roll_append(CHAIN_ID, seeded_key("mallory"), "e1", 0, [(voter_key(0, "e1"), "north")])
    assert chain.one(tx) == "NOT_AUTHORIZED"
