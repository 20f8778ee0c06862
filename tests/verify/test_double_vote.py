"""Committed double-vote evidence is named by the verifier — validator, height, round — and
makes it exit 1; evidence a block should not carry (a pair committed twice) is named too.

Ledger files exported from a real election (tests/verify/kit.py); the evidence pairs validator
1's precommit from block 4's certificate with a nil precommit it signed for the same round."""

from __future__ import annotations

import re
from pathlib import Path

from proto.votestore.v1 import ledger_pb2
from tests.verify import kit
from tests.verify.test_detection import only, run
from tools.verify.findings import Check
from tools.verify.report import EXIT_DISCREPANCY, exit_code, render_text
from votestore.blocks import evidence_root
from votestore.encoding import vote_signing_bytes

TWIN = 1
SIGNED_AT = 4


def _double_vote(chain: kit.Chain) -> ledger_pb2.Evidence:
    certificate = chain.blocks[SIGNED_AT - 1].certificate
    [sig] = [s for s in certificate.signatures if s.validator == TWIN]
    honest = ledger_pb2.Vote(
        type=ledger_pb2.PRECOMMIT,
        height=SIGNED_AT,
        round=certificate.round,
        block_id=certificate.block_id,
        validator=TWIN,
        signature=sig.signature,
    )
    message = vote_signing_bytes(kit.CHAIN_ID, ledger_pb2.PRECOMMIT, SIGNED_AT, certificate.round, TWIN, b"")
    twin = ledger_pb2.Vote(
        type=ledger_pb2.PRECOMMIT,
        height=SIGNED_AT,
        round=certificate.round,
        validator=TWIN,
        signature=kit.VALIDATOR_KEYS[TWIN].sign(message).signature,
    )
    return ledger_pb2.Evidence(vote_a=honest, vote_b=twin)


def _with_evidence(chain: kit.Chain, at: dict[int, ledger_pb2.Evidence]) -> list[ledger_pb2.CommittedBlock]:
    blocks = [kit.copy(b) for b in chain.blocks]
    for height, evidence in at.items():
        block = blocks[height - 1].block
        block.evidence.append(evidence)
        block.header.evidence_hash = evidence_root(block.evidence)
    return kit.recertify(blocks, min(at))


def test_committed_evidence_is_named_and_fails_the_run(election: kit.Election, tmp_path: Path) -> None:
    blocks = _with_evidence(election.chain, {5: _double_vote(election.chain)})
    report = run(kit.export(tmp_path, election.chain, blocks=blocks))
    [finding] = only(report, Check.DOUBLE_VOTE)
    assert finding.height == SIGNED_AT and finding.record == "evidence in block 5"
    assert finding.detail.startswith(
        f"validator {TWIN} (node{TWIN}) signed two precommits at height 4 round 0: "
    )
    assert finding.detail.endswith(" and nil")
    assert finding.line().startswith(
        "double_vote: all nodes height 4 evidence in block 5: validator 1 (node1)"
    )
    assert only(report, Check.EVIDENCE) == [], "the block's evidence keeps the rule"
    assert report.passed["evidence"] == 7
    assert exit_code(report) == EXIT_DISCREPANCY
    assert re.search(r"^double_vote +FAIL +6 +1$", render_text(report), re.MULTILINE)


def test_a_double_vote_committed_twice_is_named(election: kit.Election, tmp_path: Path) -> None:
    evidence = _double_vote(election.chain)
    blocks = _with_evidence(election.chain, {5: evidence, 6: evidence})
    report = run(kit.export(tmp_path, election.chain, blocks=blocks))
    [broken] = only(report, Check.EVIDENCE)
    assert (broken.height, broken.record) == (6, "evidence in block 6")
    assert "validator 1 at height 4 committed twice" in broken.detail
    assert len(only(report, Check.DOUBLE_VOTE)) == 2


def test_a_clean_chain_has_no_double_vote(election: kit.Election, tmp_path: Path) -> None:
    report = run(kit.export(tmp_path, election.chain))
    assert report.clean
    assert report.passed["double_vote"] == 7 and report.passed["evidence"] == 7
