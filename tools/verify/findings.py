"""What the verifier found: one `Finding` per discrepancy, and pass/fail counts per check.

A finding always names where to look — the node (or nodes), the height and the record — so an
observer can take it to an operator without running anything else (docs/design.md, invariant 7).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Check(StrEnum):
    """Every check the verifier makes; each counts passes and failures."""

    HEADER = "header"
    """Links, Merkle roots, chain id, height, time and proposer of every header on every node."""
    CERTIFICATE = "certificate"
    """2f+1 distinct genesis validators with valid precommit signatures, per node and height."""
    COMPLETENESS = "completeness"
    """Every height up to a node's reported height is served."""
    AGREEMENT = "agreement"
    """The same block at every height on every node."""
    ACCOUNTABILITY = "accountability"
    """Two different certified blocks at one height: the validators that signed both."""
    REPLAY = "replay"
    """Each transaction's stored result equals the result of replaying it."""
    APP_HASH = "app_hash"
    """Each header's app hash and results root equal the replay's."""
    BALLOT = "ballot"
    """Each ballot recorded as accepted has a valid signature and valid proofs."""
    KEY_GENERATION = "key_generation"
    """Each deal recorded as accepted proves knowledge of its commitments; no open before the
    deals and the complaint window are over, or with a key that is not one."""
    ROLL_AUTHORITY = "roll_authority"
    """Each roll batch recorded as accepted is signed by the credential authority its election's
    definition names (not the administrator, not anyone else)."""
    ATTESTATION = "attestation"
    """Each ballot recorded as accepted carries its election's identity-provider attestation,
    bound to the ballot's voter and body (none, a foreign one, or one replayed is named)."""
    AUDITED_BALLOT = "audited_ballot"
    """Each audited ballot recorded as accepted opens, nonce by nonce, to the choices it shows
    (its proofs hold for its publisher's key), and no audited ballot is ever counted: neither
    cast after it was published nor published after it was cast."""
    ROLL_FROZEN = "roll_frozen"
    """No roll change is accepted once an election opened."""
    AGGREGATE = "aggregate"
    """The encrypted tally equals the sum of the accepted ballots' ciphertexts."""
    DECRYPTION_SHARE = "decryption_share"
    """Each accepted decryption share's proofs hold against the recomputed aggregate."""
    RESULT = "result"
    """The recorded count equals the combination of the shares."""
    PUBLISHED_STATE = "published_state"
    """What a node serves as an election's state equals the replay's state at that height."""
    EVIDENCE = "evidence"
    """Each block's double-vote evidence is proven, inside the window and committed once
    (votestore/evidence.py), as the validators that certified it had to check."""
    DOUBLE_VOTE = "double_vote"
    """No committed evidence: each entry names a validator whose key signed two conflicting
    votes, with the height, round and both values."""


@dataclass(frozen=True, slots=True)
class Finding:
    check: Check
    height: int
    """0 when the finding is not about one height (e.g. an election's published state)."""
    nodes: tuple[str, ...]
    """The nodes at fault; empty when every node holds the same certified record."""
    record: str
    """The record: 'block', 'certificate', 'tx <hash> (<kind>)', 'election <id>', ..."""
    detail: str

    def line(self) -> str:
        where = ",".join(self.nodes) if self.nodes else "all nodes"
        at = f"height {self.height}" if self.height else "-"
        return f"{self.check.value}: {where} {at} {self.record}: {self.detail}"


HASH_PREFIX_CHARS: Final = 16
"""Hashes are shown by their first 16 hex characters (64 bits): enough to find the record."""
MAX_FINDINGS_KEPT: Final = 10_000
"""Findings beyond this are counted but not kept: a fully forged chain must not exhaust memory."""


class Tally:
    """Pass and fail counts per check, and the findings themselves (bounded)."""

    __slots__ = ("dropped", "failed", "findings", "passed")

    def __init__(self) -> None:
        self.passed: Counter[Check] = Counter()
        self.failed: Counter[Check] = Counter()
        self.findings: list[Finding] = []
        self.dropped = 0

    def ok(self, check: Check, count: int = 1) -> None:
        assert count >= 0, count
        self.passed[check] += count

    def fail(self, finding: Finding) -> Finding:
        self.failed[finding.check] += 1
        if len(self.findings) < MAX_FINDINGS_KEPT:
            self.findings.append(finding)
        else:
            self.dropped += 1
        return finding

    @property
    def clean(self) -> bool:
        return not self.failed
