"""Audited ballots (issue 23, cast-or-audit): published with their nonces by their own voter,
checked by every validator, and never cast — nor a cast ballot ever published."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from election.auditing import MAX_AUDITS_PER_VOTER
from election.stateless import ElectionParams, verify_tx_stateless
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential, voter_key
from tests.ledger.harness import CHAIN_ID, attester, code
from votestore import txbuild
from votestore.crypto import attestation, group
from votestore.crypto.credential import derive_credential_key

VOTERS = 4
CHOICE = ((1,), (0, 4))


@pytest.fixture
def election() -> Election:
    return Election.created(voters=VOTERS).opened()


def audited(e: Election, voter: int, choice: tuple[tuple[int, ...], ...] = CHOICE) -> tuple[bytes, bytes]:
    """Voter `voter`'s audited-ballot transaction and the cast transaction of that same ballot
    (attested and signed as a page that cast it after all would)."""
    tx, body = txbuild.audited_ballot(CHAIN_ID, ELECTION, e.definition, e.key, credential(voter), choice)
    key = derive_credential_key(credential(voter), ELECTION)
    body.attestation = attester(ELECTION)(bytes(key.verify_key), attestation.ballot_digest(body))
    return tx, txbuild.sign_ballot(CHAIN_ID, key, body)


def _body(raw: bytes) -> election_pb2.AuditedBallot:
    return election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body).audited_ballot


def _resigned(voter: int, body: election_pb2.AuditedBallot) -> bytes:
    key = derive_credential_key(credential(voter), ELECTION)
    return txbuild.signed(CHAIN_ID, key, election_pb2.Tx(audited_ballot=body))


def test_published_then_cast_is_refused_and_a_fresh_ballot_counts(election: Election) -> None:
    publish, cast = audited(election, 1)
    assert election.chain.one(publish) == "OK"
    assert code(election.chain.app.check_tx(cast)) == "AUDITED"  # the mempool's answer
    assert election.chain.one(cast) == "AUDITED"
    assert election.chain.state(ELECTION).ballots == 0
    assert not election.chain.app.has_voted(ELECTION, voter_key(1))
    assert election.chain.one(election.ballot(1, CHOICE)) == "OK"  # fresh nonces: counted
    assert election.chain.state(ELECTION).ballots == 1


def test_published_then_cast_in_one_block(election: Election) -> None:
    publish, cast = audited(election, 1)
    assert [code(r) for r in election.chain.block([publish, cast])] == ["OK", "AUDITED"]
    assert election.chain.state(ELECTION).ballots == 0


def test_cast_then_published_is_refused(election: Election) -> None:
    publish, cast = audited(election, 1)
    assert election.chain.one(cast) == "OK"
    assert code(election.chain.app.check_tx(publish)) == "ALREADY_VOTED"
    assert election.chain.one(publish) == "ALREADY_VOTED"


def test_cast_then_published_in_one_block(election: Election) -> None:
    publish, cast = audited(election, 2)
    assert [code(r) for r in election.chain.block([cast, publish])] == ["OK", "ALREADY_VOTED"]


def test_the_same_ballot_published_twice_is_refused(election: Election) -> None:
    publish, _ = audited(election, 1)
    assert election.chain.one(publish) == "OK"
    assert election.chain.one(publish) == "DUPLICATE"


def test_a_voter_publishes_a_bounded_number(election: Election) -> None:
    for _ in range(MAX_AUDITS_PER_VOTER):
        assert election.chain.one(audited(election, 3)[0]) == "OK"
    assert election.chain.one(audited(election, 3)[0]) == "AUDIT_LIMIT"
    assert election.chain.one(election.ballot(3, CHOICE)) == "OK"  # audits spend no vote


def _forged_nonce(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.nonces[2] = group.encode_scalar((group.decode_scalar(body.nonces[2]) + 1) % group.L)
    return _resigned(1, body)


def _shown_other_choices(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.choices = bytes([1 - body.choices[0], *body.choices[1:]])
    return _resigned(1, body)


def _nonce_missing(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    del body.nonces[-1]
    return _resigned(1, body)


def _nonce_not_a_scalar(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.nonces[0] = b"\xff" * 32
    return _resigned(1, body)


def _another_voters_ballot(e: Election) -> bytes:
    return _resigned(2, _body(audited(e, 1)[0]))


def _attested(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.ballot.attestation = bytes(64)
    return _resigned(1, body)


def _other_election_inside(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.ballot.election_id = "other"
    return _resigned(1, body)


def _bloated(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.nonces.extend([bytes(32)] * 200)
    return _resigned(1, body)


def _contest_missing(e: Election) -> bytes:
    body = _body(audited(e, 1)[0])
    body.ballot.contests.pop()
    return _resigned(1, body)


REFUSALS: list[tuple[str, Callable[[Election], bytes], str]] = [
    ("a nonce that does not open its ciphertext (a forged audit)", _forged_nonce, "BAD_PROOF"),
    ("choices shown other than encrypted", _shown_other_choices, "BAD_PROOF"),
    ("a nonce missing", _nonce_missing, "BAD_PROOF"),
    ("a nonce that is not a canonical scalar", _nonce_not_a_scalar, "MALFORMED"),
    ("another voter's audited ballot re-signed", _another_voters_ballot, "BAD_PROOF"),
    ("an attested ballot", _attested, "MALFORMED"),
    ("a ballot of another election inside", _other_election_inside, "MALFORMED"),
    ("over the election's size", _bloated, "MALFORMED"),
    ("a contest missing", _contest_missing, "BAD_PROOF"),
    ("credential not in roll", lambda e: audited(e, VOTERS + 1)[0], "NOT_IN_ROLL"),
]


@pytest.mark.parametrize(("why", "build", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_audit_refusals_record_nothing(
    election: Election, why: str, build: Callable[[Election], bytes], expected: str
) -> None:
    tx = build(election)
    assert code(election.chain.app.check_tx(tx)) == expected, why
    assert election.chain.one(tx) == expected, why
    assert election.chain.app.check_tx(audited(election, 1)[1]).code == election_pb2.OK


def test_stateless_check_agrees_with_block_execution(election: Election) -> None:
    """The verify-once pool judges the openings as execution does (audited ballots are
    proof-bearing: node/intake.py and the verifier's replay send them to workers)."""
    params = ElectionParams.of(election.chain.state(ELECTION))
    good, _ = audited(election, 1)
    assert code(verify_tx_stateless(CHAIN_ID, good, params)) == "OK"
    assert code(verify_tx_stateless(CHAIN_ID, _forged_nonce(election), params)) == "BAD_PROOF"


def test_no_audit_before_open_or_after_close() -> None:
    election = Election.created(voters=VOTERS)
    early = txbuild.signed(
        CHAIN_ID,
        derive_credential_key(credential(1), ELECTION),
        election_pb2.Tx(
            audited_ballot=election_pb2.AuditedBallot(
                election_id=ELECTION, ballot=election_pb2.Ballot(election_id=ELECTION)
            )
        ),
    )
    assert election.chain.one(early) in ("WRONG_PHASE", "OUTSIDE_WINDOW")
    election.opened()
    publish, _ = audited(election, 1)
    assert election.chain.one(election.close()) == "OK"
    assert election.chain.one(publish) in ("WRONG_PHASE", "OUTSIDE_WINDOW")


def test_replay_agrees(election: Election) -> None:
    publish, cast = audited(election, 1)
    election.chain.block([publish, cast, election.ballot(2, CHOICE)])
    replica = election.chain.replay()
    assert replica.app.app_hash == election.chain.app.app_hash
