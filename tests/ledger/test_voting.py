"""Ballots: roll, first-ballot-counts, window, phase, proofs, signature; verify-once."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import pytest

from election import stateless
from election.policy import BlockContext
from election.state_machine import NO_POINTS
from election.stateless import ElectionParams, verify_tx_handover, verify_tx_stateless
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential, voter_key
from tests.ledger.harness import (
    CHAIN_ID,
    COMPLAINT_WINDOW_MS,
    T0_MS,
    WINDOW_END_MS,
    WINDOW_START_MS,
    attester,
    code,
)
from votestore import txbuild
from votestore.crypto import attestation
from votestore.crypto import ballot as ballot_module
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import DecodedTx, tx_hash

VOTERS = 6
CHOICE = ((1,), (0, 4))


@pytest.fixture
def election() -> Election:
    return Election.created(voters=VOTERS).opened()


def _ballot_body(raw: bytes) -> election_pb2.Ballot:
    return election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body).ballot


def _resigned(voter: int, body: election_pb2.Ballot, attest: bool = True) -> bytes:
    """Signed by voter `voter`, attested anew for it (a voter who passed the identity check and
    runs a client of its own making), unless `attest` is false."""
    key = derive_credential_key(credential(voter), ELECTION)
    if attest and body.election_id == ELECTION:
        body.attestation = attester(ELECTION)(bytes(key.verify_key), attestation.ballot_digest(body))
    return txbuild.signed(CHAIN_ID, key, election_pb2.Tx(ballot=body))


def _tampered_proof(e: Election) -> bytes:
    body = _ballot_body(e.ballot(1, CHOICE))
    proof = body.contests[0].selection_proofs[0]
    proof.responses[0] = bytes([proof.responses[0][0] ^ 1]) + proof.responses[0][1:]
    return _resigned(1, body)


def _swapped_ciphertexts(e: Election) -> bytes:
    body = _ballot_body(e.ballot(1, CHOICE))
    selections = body.contests[0].selections
    first, second = election_pb2.Ciphertext(), election_pb2.Ciphertext()
    first.CopyFrom(selections[0])
    second.CopyFrom(selections[1])
    selections[0].CopyFrom(second)
    selections[1].CopyFrom(first)
    return _resigned(1, body)


def _copied_from_other_voter(e: Election) -> bytes:
    return _resigned(2, _ballot_body(e.ballot(1, CHOICE)))


def _tampered_signature(e: Election) -> bytes:
    envelope = election_pb2.SignedTx.FromString(e.ballot(1, CHOICE))
    envelope.signature = bytes(64)
    return envelope.SerializeToString()


def _missing_contest(e: Election) -> bytes:
    body = _ballot_body(e.ballot(1, CHOICE))
    body.contests.pop()
    return _resigned(1, body)


Scenario = Callable[[Election], bytes]

BALLOT_REFUSALS: list[tuple[str, Scenario, str]] = [
    ("credential not in roll", lambda e: e.ballot(VOTERS + 1, CHOICE), "NOT_IN_ROLL"),
    ("a 0/1 proof altered", _tampered_proof, "BAD_PROOF"),
    ("ciphertexts swapped under their proofs", _swapped_ciphertexts, "BAD_PROOF"),
    ("another voter's ballot re-signed", _copied_from_other_voter, "BAD_PROOF"),
    (
        "another voter's ballot re-signed, its attestation kept",
        lambda e: _resigned(2, _ballot_body(e.ballot(1, CHOICE)), attest=False),
        "BAD_ATTESTATION",
    ),
    ("a contest missing", _missing_contest, "BAD_PROOF"),
    ("signature altered", _tampered_signature, "BAD_SIGNATURE"),
    (
        "unknown election",
        lambda e: _resigned(1, election_pb2.Ballot(election_id="nope")),
        "UNKNOWN_ELECTION",
    ),
]


@pytest.mark.parametrize(("why", "build", "expected"), BALLOT_REFUSALS, ids=[r[0] for r in BALLOT_REFUSALS])
def test_ballot_refusals_count_nothing(election: Election, why: str, build: Scenario, expected: str) -> None:
    tx = build(election)
    assert code(election.chain.app.check_tx(tx)) == expected, why
    assert election.chain.one(tx) == expected, why
    record = election.chain.state(ELECTION)
    assert record.ballots == 0
    assert not election.chain.app.has_voted(ELECTION, voter_key(1))


def test_first_ballot_counts_later_ones_refused(election: Election) -> None:
    first, second, third = (election.ballot(1, c) for c in (CHOICE, ((2,), ()), ((3,), (1,))))
    assert [code(r) for r in election.chain.block([first, second])] == ["OK", "ALREADY_VOTED"]
    assert election.chain.one(third) == "ALREADY_VOTED"
    assert code(election.chain.app.check_tx(third)) == "ALREADY_VOTED"
    assert election.chain.app.voted_tx(ELECTION, voter_key(1)) == tx_hash(first)
    record = election.chain.state(ELECTION)
    assert record.ballots == 1
    north, south = record.turnout
    assert (north.group, north.ballots, south.ballots) == ("north", 0, 1)


def test_mempool_check_sees_each_commit(election: Election) -> None:
    """Ballots' checks share a view of committed state until the next commit: a checked ballot
    is judged again against what a later block changed (here the phase)."""
    first, second = election.ballot(1, CHOICE), election.ballot(2, CHOICE)
    assert code(election.chain.app.check_tx(first)) == "OK"
    assert election.chain.one(first) == "OK"
    assert code(election.chain.app.check_tx(first)) == "ALREADY_VOTED"
    assert code(election.chain.app.check_tx(second)) == "OK"
    assert election.chain.one(election.close()) == "OK"
    assert code(election.chain.app.check_tx(second)) == "WRONG_PHASE"


def test_ballot_before_window_start_is_outside_window() -> None:
    election = Election.created(voters=2)
    early = T0_MS + 10_000
    assert early < WINDOW_START_MS
    election.chain.block([election.deal(1), election.deal(2), election.deal(3)], early)
    assert election.chain.one(election.open(), early + COMPLAINT_WINDOW_MS) == "OK"
    assert (
        election.chain.one(election.ballot(1, CHOICE), early + COMPLAINT_WINDOW_MS + 1000) == "OUTSIDE_WINDOW"
    )
    assert election.chain.one(election.ballot(1, CHOICE), WINDOW_START_MS) == "OK"


def test_ballot_in_window_before_open_is_wrong_phase() -> None:
    election = Election.created(voters=2)
    election.chain.block([election.deal(1), election.deal(2)], WINDOW_START_MS)
    other = Election.created(voters=2).opened()  # a valid ballot shape under some key
    tx = txbuild.ballot(
        CHAIN_ID, ELECTION, election.definition, other.key, credential(1), CHOICE, attester(ELECTION)
    )
    assert election.chain.one(tx) == "WRONG_PHASE"


def test_admin_close_counts_earlier_ballots_of_its_block_only(election: Election) -> None:
    txs = [election.ballot(1, CHOICE), election.close(), election.ballot(2, CHOICE)]
    assert [code(r) for r in election.chain.block(txs)] == ["OK", "OK", "WRONG_PHASE"]
    record = election.chain.state(ELECTION)
    assert record.phase == election_pb2.CLOSED
    assert record.ballots == 1
    assert record.tally_height == election.chain.app.height
    assert election.chain.one(election.close()) == "WRONG_PHASE"


def test_block_time_past_window_end_closes_at_previous_height(election: Election) -> None:
    assert election.chain.one(election.ballot(1, CHOICE)) == "OK"
    last_open_height = election.chain.app.height
    late = election.ballot(2, CHOICE)
    assert election.chain.one(late, WINDOW_END_MS) == "OUTSIDE_WINDOW"
    record = election.chain.state(ELECTION)
    assert record.phase == election_pb2.CLOSED
    assert record.tally_height == last_open_height
    assert record.ballots == 1
    assert code(election.chain.app.check_tx(late)) == "OUTSIDE_WINDOW"


def test_verify_once_cache_skips_proof_checks(election: Election, monkeypatch: pytest.MonkeyPatch) -> None:
    txs = [election.ballot(v, CHOICE) for v in range(3)]
    params = election.chain.app.params_for(txs[0])
    assert params is not None
    verified = set()
    for tx in txs:
        assert verify_tx_stateless(CHAIN_ID, tx, params).code == election_pb2.OK
        verified.add(tx_hash(tx))
    calls: list[bytes] = []
    real = ballot_module.verify_ballot

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(b"")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stateless, "verify_ballot", counting)
    assert {code(election.chain.app.check_tx(tx, verified)) for tx in txs} == {"OK"}
    assert {code(r) for r in election.chain.block(txs, verified=verified)} == {"OK"}
    assert calls == []
    assert code(election.chain.app.check_tx(election.ballot(4, CHOICE))) == "OK"
    assert len(calls) == 1


STATELESS_TABLE: list[tuple[str, Scenario, str]] = [
    ("valid ballot", lambda e: e.ballot(1, CHOICE), "OK"),
    *[
        (why, build, expected)
        for why, build, expected in BALLOT_REFUSALS
        if expected in ("BAD_PROOF", "BAD_SIGNATURE")
    ],
    ("garbage", lambda e: b"\x00\x01", "MALFORMED"),
]


@pytest.mark.parametrize(("why", "build", "expected"), STATELESS_TABLE, ids=[r[0] for r in STATELESS_TABLE])
def test_verify_tx_stateless_agrees_with_execution(
    election: Election, why: str, build: Scenario, expected: str
) -> None:
    tx = build(election)
    params = ElectionParams.of(election.chain.state(ELECTION))
    assert code(verify_tx_stateless(CHAIN_ID, tx, params)) == expected, why
    assert election.chain.one(tx) == expected, why


def test_stateless_verification_runs_in_a_process_pool(election: Election) -> None:
    txs = [election.ballot(1, CHOICE), _tampered_proof(election)]
    params = election.chain.app.params_for(txs[0])
    assert params is not None
    assert pickle.loads(pickle.dumps(params)).definition == params.definition
    with ProcessPoolExecutor(max_workers=1) as pool:
        results = list(pool.map(verify_tx_stateless, [CHAIN_ID] * 2, txs, [params] * 2))
    assert [code(r) for r in results] == ["OK", "BAD_PROOF"]


def test_points_a_worker_handed_over_make_the_same_block(election: Election) -> None:
    """The tally takes a worker's decoded points (tally.handover) as they are: the block's
    writes and app hash must be those of decoding every point here, with some ballots handed
    over and some not, and a refused ballot's points never counted."""
    txs = [election.ballot(v, CHOICE) for v in range(4)]
    again = election.ballot(0, ((2,), ()))  # voter 0 again: refused, points unused
    params = election.chain.app.params_for(txs[0])
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        checked = list(pool.map(verify_tx_handover, [CHAIN_ID] * 4, [*txs[:3], again], [params] * 4))
    assert [code(result) for result, _ in checked] == ["OK"] * 4
    points = {tx_hash(tx): handed for tx, (_, handed) in zip([*txs[:3], again], checked, strict=True)}
    block = [*txs, again]
    verified = {tx_hash(tx) for tx in block}
    app = election.chain.app
    ctx = BlockContext(app.height + 1, election.chain.time_ms + 1000)
    decoded_here = app.execute_block(ctx, block, verified)
    handed_over = app.execute_block(ctx, block, verified, points)
    assert [code(r) for r in handed_over.results] == ["OK"] * 4 + ["ALREADY_VOTED"]
    assert handed_over == decoded_here


def test_points_of_an_unverified_ballot_are_a_bug(election: Election) -> None:
    tx = election.ballot(1, CHOICE)
    params = election.chain.app.params_for(tx)
    _, handed = verify_tx_handover(CHAIN_ID, tx, params)
    app = election.chain.app
    with pytest.raises(AssertionError, match="not verified"):
        app.execute_block(
            BlockContext(app.height + 1, election.chain.time_ms + 1000), [tx], (), {tx_hash(tx): handed}
        )


def test_stateless_ballot_needs_matching_params(election: Election) -> None:
    tx = election.ballot(1, CHOICE)
    assert code(verify_tx_stateless(CHAIN_ID, tx, None)) == "UNKNOWN_ELECTION"
    other = Election.created()
    assert (
        code(verify_tx_stateless(CHAIN_ID, tx, ElectionParams.of(other.chain.state(ELECTION))))
        == "WRONG_PHASE"
    )


def test_execution_takes_given_hashes_and_decodings_with_the_same_outcome(election: Election) -> None:
    """What the node hands execute_block (each transaction's hash, decodings from its mempool)
    changes no result, write or app hash: a malformed transaction and a refusal included."""
    txs = [
        election.ballot(1, CHOICE),
        b"\x0a\x03abc",
        election.ballot(1, ((2,), ())),
        election.ballot(2, CHOICE),
    ]
    hashes = [tx_hash(raw) for raw in txs]
    decoded = {h: DecodedTx.of(raw) for h, raw in zip(hashes, txs, strict=True) if raw != txs[1]}
    app = election.chain.app
    ctx = BlockContext(app.height + 1, election.chain.time_ms + 1000)
    plain = app.execute_block(ctx, txs)
    given = app.execute_block(ctx, txs, (), NO_POINTS, hashes, decoded)
    assert [code(r) for r in given.results] == ["OK", "MALFORMED", "ALREADY_VOTED", "OK"]
    assert given == plain
