"""Audited ballots (issue 23) on ledger files: the verifier re-opens every published audited
ballot and names one that was counted, or a forged one recorded as accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from proto.votestore.v1 import election_pb2
from tests.verify import kit
from tests.verify.test_detection import only, run
from tools.verify.findings import Check
from tools.verify.nodes import Report
from votestore import txbuild
from votestore.crypto import attestation, group
from votestore.encoding import tx_hash

CHOICE = [[1], [0, 2]]


def audited(election: kit.Election, voter: int) -> tuple[bytes, bytes]:
    """Voter `voter`'s AuditedBallot transaction, and that same ballot attested and signed to cast."""
    state = election.state()
    publish, body = txbuild.audited_ballot(
        kit.CHAIN_ID, kit.ELECTION, election.definition, state.election_key, kit.credential(voter), CHOICE
    )
    voter_public = bytes(kit.voter_key(voter).verify_key)
    body.attestation = attestation.sign(
        kit.PROVIDER, kit.CHAIN_ID, kit.ELECTION, voter_public, attestation.ballot_digest(body)
    )
    return publish, txbuild.sign_ballot(kit.CHAIN_ID, kit.voter_key(voter), body)


def test_a_published_audit_and_a_fresh_cast_verify(tmp_path: Path) -> None:
    election = kit.Election.opened()
    publish, _ = audited(election, 0)
    results = election.chain.block([publish, election.ballot(0, kit.SELECTIONS[0])])
    assert kit.ok(results)
    election.count()
    report = run(kit.export(tmp_path, election.chain))
    assert not report.findings, report.findings
    assert report.passed["audited_ballot"] == 1


def _certified_with(tmp_path: Path, election: kit.Election, sneak: bytes) -> tuple[Report, int]:
    """A colluding quorum's ledger: `sneak` appended, stored OK, to the last block, re-certified."""
    assert kit.ok(election.chain.block([election.ballot(1, kit.SELECTIONS[1])]))
    height = len(election.chain.blocks)
    blocks = [kit.copy(b) for b in election.chain.blocks]
    blocks[height - 1].block.txs.append(sneak)
    blocks[height - 1].results.add(code=election_pb2.OK)
    return run(kit.export(tmp_path, election.chain, blocks=kit.recertify(blocks, height))), height


def test_an_audited_ballot_counted_by_a_colluding_quorum_is_named(tmp_path: Path) -> None:
    """A quorum certified, after the publication, the cast of that same ballot as accepted."""
    election = kit.Election.opened()
    publish, cast = audited(election, 0)
    assert kit.ok(election.chain.block([publish]))
    report, height = _certified_with(tmp_path, election, cast)
    (finding,) = only(report, Check.AUDITED_BALLOT)
    assert finding.height == height
    assert finding.record == f"tx {tx_hash(cast).hex()[:16]} (ballot) at index 1"
    assert "replay gives AUDITED" in finding.detail


def test_a_cast_ballot_published_by_a_colluding_quorum_is_named(tmp_path: Path) -> None:
    election = kit.Election.opened()
    publish, cast = audited(election, 0)
    assert kit.ok(election.chain.block([cast]))
    report, _ = _certified_with(tmp_path, election, publish)
    (finding,) = only(report, Check.AUDITED_BALLOT)
    assert finding.record == f"tx {tx_hash(publish).hex()[:16]} (audited_ballot) at index 1"
    assert "replay gives ALREADY_VOTED" in finding.detail


def test_an_audited_ballot_counted_by_the_state_machine_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verifier's own check, not the replay: with the never-cast rule gone from the state
    machine (validators and the verifier's replay alike), the counted audited ballot is named."""
    monkeypatch.setattr("election.voting.refuse_if_audited", lambda *_: None)
    election = kit.Election.opened()
    publish, cast = audited(election, 0)
    assert kit.ok(election.chain.block([publish]))
    assert kit.ok(election.chain.block([cast]))
    report = run(kit.export(tmp_path, election.chain))
    (finding,) = only(report, Check.AUDITED_BALLOT)
    assert finding.height == len(election.chain.blocks)
    assert finding.record == f"tx {tx_hash(cast).hex()[:16]} (ballot)"
    assert f"published as audited in tx {tx_hash(publish).hex()[:16]}" in finding.detail


@pytest.mark.parametrize("workers", [1, 2])
def test_a_forged_audit_recorded_as_accepted_is_named(tmp_path: Path, workers: int) -> None:
    """A quorum that skipped the openings (verified-set abuse) certified an audit whose nonce
    does not open its ciphertext."""
    election = kit.Election.opened()
    publish, _ = audited(election, 0)
    envelope = election_pb2.SignedTx.FromString(publish)
    tx = election_pb2.Tx.FromString(envelope.body)
    tx.audited_ballot.nonces[0] = group.encode_scalar(
        (group.decode_scalar(tx.audited_ballot.nonces[0]) + 1) % group.L
    )
    forged = txbuild.signed(kit.CHAIN_ID, kit.voter_key(0), tx)
    assert kit.ok(election.chain.block([forged], verified={tx_hash(forged)}))
    report = run(kit.export(tmp_path, election.chain), workers)
    (finding,) = only(report, Check.AUDITED_BALLOT)
    assert finding.record == f"tx {tx_hash(forged).hex()[:16]} (audited_ballot) at index 0"
    assert "replay gives BAD_PROOF" in finding.detail
