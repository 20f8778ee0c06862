"""What `Consensus.step` asks the shell to do, in order (persist before broadcast)."""

from __future__ import annotations

from dataclasses import dataclass

from node.consensus.events import TimeoutKind
from node.consensus.messages import Certificate, LastSigned, Proposal, Vote


@dataclass(frozen=True, slots=True)
class PersistSigned:
    """Write `record` durably (fsync) before carrying out the next action."""

    record: LastSigned


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send to every other validator. The core has already counted its own message."""

    message: Proposal | Vote


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Feed `Timeout(kind, height, round)` back after `duration_ms`."""

    kind: TimeoutKind
    height: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RequestProposal:
    """This node proposes at (height, round) and has no validValue: answer with `ProposalValue`.
    `skipped`: the validators the leader rule skips at this height — the block should carry a
    readiness vote of each one the shell has heard from (node/consensus/leader.py)."""

    height: int
    round: int
    skipped: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Commit:
    """Apply the decided block. The core has already moved to height + 1; the actions that follow
    in the same list belong to the next height, so apply this block before carrying them out."""

    height: int
    block_id: bytes
    payload: bytes
    certificate: Certificate
    proposer: int
    """The validator that built the block (its header's proposer): the leader rule's history."""


@dataclass(frozen=True, slots=True)
class RecordEvidence:
    """Two conflicting signed votes from one validator for one (height, round, type)."""

    vote_a: Vote
    vote_b: Vote


Action = PersistSigned | Broadcast | ScheduleTimeout | RequestProposal | Commit | RecordEvidence
