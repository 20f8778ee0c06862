"""Each fault the issue lists is found and named (check, node, height, record) on ledger files
exported from a real election; a clean election verifies; a lagging node is only lagging.

Heights of the clean election (kit.clean_election): 1 create, 2 roll + deals, 3 open,
4 three ballots, 5 two ballots + one refused, 6 close, 7 two shares (counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from proto.votestore.v1 import election_pb2, ledger_pb2
from tests.verify import kit
from tools.verify.findings import Check, Finding
from tools.verify.nodes import Report
from tools.verify.once import verify_once
from tools.verify.sources import FileSource
from votestore import txbuild
from votestore.crypto import attestation
from votestore.encoding import tx_hash

BALLOT_HEIGHT = 4


def run(paths: Sequence[Path], workers: int = 1) -> Report:
    sources = [FileSource(p) for p in paths]
    try:
        return verify_once(kit.GENESIS, sources, workers=workers)
    finally:
        for source in sources:
            source.close()


def only(report: Report, check: Check) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def test_clean_election_verifies_on_four_nodes(election: kit.Election, tmp_path: Path) -> None:
    report = run(kit.export(tmp_path, election.chain))
    assert report.clean, [f.line() for f in report.findings]
    assert [row.status for row in report.nodes] == ["ok"] * 4
    assert [row.verified_height for row in report.nodes] == [7] * 4
    assert report.agreed_height == 7
    assert report.passed["ballot"] == len(kit.SELECTIONS)
    assert report.passed["decryption_share"] == 2
    assert report.passed["result"] == 1
    assert report.passed["certificate"] == 4 * 7
    assert report.passed["published_state"] == 4


def _bump_time(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    blocks[BALLOT_HEIGHT - 1].block.header.time_ms += 1


def _drop_block(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    del blocks[BALLOT_HEIGHT - 1]


def _short_certificate(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    del blocks[2].certificate.signatures[2]


def _forged_signature(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    cert = blocks[1].certificate
    cert.signatures[1].signature = kit.OUTSIDER.sign(b"anything").signature


def _outsider_signer(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    blocks[1].certificate.signatures[1].validator = 7


def _double_counted(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    cert = blocks[1].certificate
    cert.signatures[2].CopyFrom(cert.signatures[1])


def _flip_ballot_byte(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
    txs = blocks[BALLOT_HEIGHT - 1].block.txs
    raw = bytearray(txs[1])
    raw[-1] ^= 0x01
    txs[1] = bytes(raw)


@pytest.mark.parametrize(
    ("tamper", "check", "height", "record", "detail"),
    [
        (_bump_time, Check.CERTIFICATE, BALLOT_HEIGHT, "certificate", "certificate is for another block"),
        (_bump_time, Check.AGREEMENT, BALLOT_HEIGHT, "block", "serves block"),
        (_drop_block, Check.COMPLETENESS, BALLOT_HEIGHT, "block", f"height {BALLOT_HEIGHT} not served"),
        (_short_certificate, Check.CERTIFICATE, 3, "certificate", "2 precommits, 3 needed"),
        (_forged_signature, Check.CERTIFICATE, 2, "certificate", "bad precommit signature from validator 1"),
        (_outsider_signer, Check.CERTIFICATE, 2, "certificate", "signer 7 is not a genesis validator"),
        (_double_counted, Check.CERTIFICATE, 2, "certificate", "counted twice"),
        (_flip_ballot_byte, Check.HEADER, BALLOT_HEIGHT, "block", "transactions do not match"),
        (_flip_ballot_byte, Check.AGREEMENT, BALLOT_HEIGHT, "(ballot) at index 1", "body differs"),
    ],
)
def test_one_node_serving_a_damaged_record_is_named(
    election: kit.Election,
    tmp_path: Path,
    tamper: kit.Tamper,
    check: Check,
    height: int,
    record: str,
    detail: str,
) -> None:
    report = run(kit.export(tmp_path, election.chain, tamper={2: tamper}))
    named = [
        f for f in only(report, check) if f.height == height and record in f.record and detail in f.detail
    ]
    assert len(named) == 1, [f.line() for f in report.findings]
    assert named[0].nodes == ("node2",)
    assert {n for f in report.findings for n in f.nodes} == {"node2"}
    assert {row.name: row.status for row in report.nodes}["node2"] == "faulty"
    assert report.agreed_height == 7


def test_flipped_ballot_names_the_transaction(election: kit.Election, tmp_path: Path) -> None:
    report = run(kit.export(tmp_path, election.chain, tamper={1: _flip_ballot_byte}))
    original = election.chain.blocks[BALLOT_HEIGHT - 1].block.txs[1]
    (finding,) = only(report, Check.AGREEMENT)
    assert finding.record.startswith(f"tx {tx_hash(original[:-1] + bytes([original[-1] ^ 1])).hex()[:16]}")


def test_wrong_published_result_is_named(election: kit.Election, tmp_path: Path) -> None:
    def inflate(_: object, states: list[election_pb2.ElectionState]) -> None:
        states[0].result.contests[0].counts[1] += 1

    report = run(kit.export(tmp_path, election.chain, tamper={1: inflate}))
    (finding,) = report.findings
    assert (finding.check, finding.nodes, finding.record) == (Check.RESULT, ("node1",), "election e1")
    assert "mayor=[3, 2, 1]" in finding.detail and "mayor=[3, 1, 1]" in finding.detail


def test_lagging_node_is_reported_as_lagging(election: kit.Election, tmp_path: Path) -> None:
    def fall_behind(
        blocks: list[ledger_pb2.CommittedBlock], states: list[election_pb2.ElectionState]
    ) -> None:
        del blocks[3:]
        states.clear()

    report = run(kit.export(tmp_path, election.chain, tamper={3: fall_behind}))
    assert report.clean, [f.line() for f in report.findings]
    row = {r.name: r for r in report.nodes}["node3"]
    assert (row.status, row.height, row.verified_height, row.lag) == ("lagging", 3, 3, 4)


@pytest.mark.parametrize("workers", [1, 2])
def test_ballot_with_invalid_proof_recorded_as_accepted(tmp_path: Path, workers: int) -> None:
    """A quorum that skipped the proof check (verified-set abuse) certified a ballot whose proof
    is broken; every node holds it, so the finding names all of them; the same with workers."""
    election = kit.Election.opened()
    good = election.ballot(0, kit.SELECTIONS[0])
    bad = _break_proof(election, 1)
    results = election.chain.block([good, bad], verified={tx_hash(bad)})
    assert [r.code for r in results] == [election_pb2.OK, election_pb2.OK]
    report = run(kit.export(tmp_path, election.chain), workers)
    (finding,) = only(report, Check.BALLOT)
    assert finding.height == 4
    assert finding.nodes == ("node0", "node1", "node2", "node3")
    assert finding.record == f"tx {tx_hash(bad).hex()[:16]} (ballot) at index 1"
    assert "stored OK, replay gives BAD_PROOF" in finding.detail
    assert report.passed["ballot"] == 1


def _break_proof(election: kit.Election, voter: int) -> bytes:
    """A ballot whose first 0/1 proof response is changed, validly signed by the voter."""
    raw = election.ballot(voter, kit.SELECTIONS[voter])
    envelope = election_pb2.SignedTx.FromString(raw)
    tx = election_pb2.Tx.FromString(envelope.body)
    response = bytearray(tx.ballot.contests[0].selection_proofs[0].responses[0])
    response[0] ^= 0x01
    tx.ballot.contests[0].selection_proofs[0].responses[0] = bytes(response)
    voter_public = bytes(kit.voter_key(voter).verify_key)
    tx.ballot.attestation = attestation.sign(
        kit.PROVIDER, kit.CHAIN_ID, kit.ELECTION, voter_public, attestation.ballot_digest(tx.ballot)
    )
    return txbuild.signed(kit.CHAIN_ID, kit.voter_key(voter), tx)


def test_roll_change_after_open_is_named(election: kit.Election, tmp_path: Path) -> None:
    """A colluding quorum certified a roll append after open with result OK."""
    sneak = txbuild.roll_append(kit.CHAIN_ID, kit.AUTHORITY, kit.ELECTION, 2, [(b"\x05" * 32, "north")])
    blocks = [kit.copy(b) for b in election.chain.blocks]
    blocks[BALLOT_HEIGHT - 1].block.txs.append(sneak)
    blocks[BALLOT_HEIGHT - 1].results.add(code=election_pb2.OK)
    report = run(kit.export(tmp_path, election.chain, blocks=kit.recertify(blocks, BALLOT_HEIGHT)))
    (finding,) = only(report, Check.ROLL_FROZEN)
    assert finding.height == BALLOT_HEIGHT
    assert finding.nodes == ("node0", "node1", "node2", "node3")
    assert finding.record == f"tx {tx_hash(sneak).hex()[:16]} (roll_append) at index 3"
    assert "replay gives WRONG_PHASE" in finding.detail
    (mismatch,) = only(report, Check.APP_HASH)
    assert mismatch.height == BALLOT_HEIGHT + 1 and "results root" in mismatch.detail


def test_administrators_roll_batch_recorded_as_accepted_is_named(tmp_path: Path) -> None:
    """Issue 18, attack 5: a colluding quorum certified a roll batch the administrator signed
    (a key for an abstainer) before open; the verifier names the roll's provenance."""
    election = kit.Election.created()
    stand_in = bytes(kit.voter_key(99).verify_key)
    sneak = txbuild.roll_append(kit.CHAIN_ID, kit.ADMIN, kit.ELECTION, 0, [(stand_in, "north")])
    blocks = [kit.copy(b) for b in election.chain.blocks]
    blocks[0].block.txs.append(sneak)
    blocks[0].results.add(code=election_pb2.OK)
    report = run(kit.export(tmp_path, election.chain, blocks=kit.recertify(blocks, 1)))
    (finding,) = only(report, Check.ROLL_AUTHORITY)
    assert finding.record == f"tx {tx_hash(sneak).hex()[:16]} (roll_append) at index 1"
    assert "replay gives NOT_AUTHORIZED" in finding.detail
    assert "credential authority" in finding.detail


def _without_attestation(election: kit.Election, voter: int) -> bytes:
    """The credential authority's ballot for a voter whose credential it drew: no attestation."""
    envelope = election_pb2.SignedTx.FromString(election.ballot(voter, kit.SELECTIONS[voter]))
    tx = election_pb2.Tx.FromString(envelope.body)
    tx.ballot.ClearField("attestation")
    return txbuild.signed(kit.CHAIN_ID, kit.voter_key(voter), tx)


def _attestation_of_another_voter(election: kit.Election, voter: int) -> bytes:
    """A gateway's replay: voter 0's attestation on the ballot of `voter`."""
    donor = election_pb2.Tx.FromString(
        election_pb2.SignedTx.FromString(election.ballot(0, kit.SELECTIONS[0])).body
    )
    envelope = election_pb2.SignedTx.FromString(election.ballot(voter, kit.SELECTIONS[voter]))
    tx = election_pb2.Tx.FromString(envelope.body)
    tx.ballot.attestation = donor.ballot.attestation
    return txbuild.signed(kit.CHAIN_ID, kit.voter_key(voter), tx)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (_without_attestation, "no identity-provider attestation"),
        (_attestation_of_another_voter, "not the identity provider's for this voter and this ballot"),
    ],
    ids=["none", "replayed from another voter"],
)
def test_ballot_without_its_attestation_recorded_as_accepted_is_named(
    tmp_path: Path, build: object, reason: str
) -> None:
    """A quorum that skipped the stateless checks (verified-set abuse) certified a ballot with no
    attestation, or another voter's: the verifier names the attestation."""
    election = kit.Election.opened()
    bad = build(election, 1)  # type: ignore[operator]
    results = election.chain.block([bad], verified={tx_hash(bad)})
    assert [r.code for r in results] == [election_pb2.OK]
    report = run(kit.export(tmp_path, election.chain))
    (finding,) = only(report, Check.ATTESTATION)
    assert finding.record == f"tx {tx_hash(bad).hex()[:16]} (ballot) at index 0"
    assert "replay gives BAD_ATTESTATION" in finding.detail and reason[:40] in finding.detail


def test_two_certified_blocks_name_the_validators_that_signed_both(
    election: kit.Election, tmp_path: Path
) -> None:
    """Nodes 0,1 hold one block at height 2 certified by 0,1,2; nodes 2,3 another by 1,2,3."""
    other = kit.copy(election.chain.blocks[1])
    other.block.header.time_ms += 1
    other.certificate.CopyFrom(kit.certify(other.block.header, signers=(1, 2, 3)))

    def fork(blocks: list[ledger_pb2.CommittedBlock], _: object) -> None:
        blocks[1].CopyFrom(other)

    report = run(kit.export(tmp_path, election.chain, tamper={2: fork, 3: fork}))
    (finding,) = only(report, Check.ACCOUNTABILITY)
    assert finding.height == 2
    assert "signed both: 1 (node1), 2 (node2)" in finding.detail
    disagree = only(report, Check.AGREEMENT)
    assert [(f.height, f.nodes) for f in disagree] == [(2, ("node2", "node3"))]
