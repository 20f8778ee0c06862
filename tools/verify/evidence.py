"""Double votes the chain committed, named for an observer: one `double_vote` finding per
evidence entry (the validator, its name, the height, round and type it signed twice, and the
two values), and the block rule the validators applied to evidence, checked again
(`votestore.evidence.check_block_evidence`: proven, inside the window, committed once).

A double vote is a validator's key signing two conflicting votes — a twin, a stolen key, a
buggy signer — so it is a discrepancy (exit 1) even though the chain itself is sound: the
operator of that validator has something to find and stop (docs/verifier.md).
"""

from __future__ import annotations

from proto.votestore.v1 import ledger_pb2
from tools.verify.findings import Check, Finding, Tally
from votestore.blocks import BlockInvalid, check_evidence
from votestore.evidence import CommittedEvidence, check_block_evidence
from votestore.genesis import Genesis


def _value(block_id: bytes) -> str:
    return f"block {block_id.hex()[:16]}" if block_id else "nil"


def describe(genesis: Genesis, evidence: ledger_pb2.Evidence) -> str:
    """`validator 1 (site-1) signed two prevotes at height 45 round 0: block ab… and nil`."""
    a, b = evidence.vote_a, evidence.vote_b
    name = genesis.validators[a.validator].name if a.validator < genesis.n else "not in genesis"
    kind = ledger_pb2.VoteType.Name(a.type).lower() if a.type in ledger_pb2.VoteType.values() else "vote"
    return (
        f"validator {a.validator} ({name}) signed two {kind}s at height {a.height} round {a.round}: "
        f"{_value(a.block_id)} and {_value(b.block_id)}"
    )


class EvidenceAudit:
    """Fed every agreed block in height order."""

    def __init__(self, genesis: Genesis, tally: Tally) -> None:
        self._genesis = genesis
        self._keys = genesis.validator_keys()
        self._tally = tally
        self._committed = CommittedEvidence()

    def observe_block(self, height: int, block: ledger_pb2.Block) -> None:
        record = f"evidence in block {height}"
        try:
            check_block_evidence(self._genesis.chain_id, self._keys, height, block.evidence, self._committed)
            self._tally.ok(Check.EVIDENCE)
        except BlockInvalid as exc:
            self._tally.fail(Finding(Check.EVIDENCE, height, (), record, str(exc)))
        for entry in block.evidence:
            try:
                check_evidence(self._genesis.chain_id, self._keys, entry)
            except BlockInvalid:
                continue  # named above: the block's evidence breaks the rule
            self._tally.fail(
                Finding(Check.DOUBLE_VOTE, entry.vote_a.height, (), record, describe(self._genesis, entry))
            )
        if not block.evidence:
            self._tally.ok(Check.DOUBLE_VOTE)
        self._committed.add_block(height, block.evidence)
