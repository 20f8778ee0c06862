"""The signed messages of Algorithm 1 and the records built from them (values, not behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class VoteType(IntEnum):
    """Wire values match `ledger.proto`'s `VoteType` and the signing layout's type byte."""

    PREVOTE = 1
    PRECOMMIT = 2


class Step(IntEnum):
    """The paper's `step_p`; ordered so (height, round, step) orders everything a node signs."""

    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


@dataclass(frozen=True, slots=True)
class Vote:
    """⟨PREVOTE|PRECOMMIT, h, round, id(v)⟩ signed by `validator`; `block_id` None is nil."""

    type: VoteType
    height: int
    round: int
    block_id: bytes | None
    validator: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class Proposal:
    """⟨PROPOSAL, h, round, v, validRound⟩. The signature covers `block_id`, not `payload`: the
    injected `valid` predicate must check that the payload is the block `block_id` names."""

    height: int
    round: int
    valid_round: int
    block_id: bytes
    proposer: int
    signature: bytes
    payload: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Certificate:
    """2f+1 precommit signatures for `block_id` at (height, round), sorted by validator: checkable
    with the validator set alone (`verify_certificate`)."""

    height: int
    round: int
    block_id: bytes
    signatures: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class LastSigned:
    """What this validator signed last, and the round state that must survive a crash with it.

    The shell writes it with fsync before the matching Broadcast leaves. A `Consensus` built with
    it never signs a conflicting message at or below (height, round, step). The lock travels with
    it because a validator that forgets its lock after a crash can prevote against a value it
    precommitted — as harmful as a double sign (paper, Lemma 5 relies on the lock). The valid
    value travels with its proposal and its 2f+1 prevotes (the proof of lock) because a restarted
    proposer must be able to re-propose it with validRound and show the polka (line 28); without
    them a locked validator may never see a value it can prevote again. The round's own prevote
    travels with a precommit for the same reason as the vote itself: to be sent again.
    """

    height: int
    round: int
    step: Step
    block_id: bytes | None
    locked_round: int = -1
    locked_block_id: bytes | None = None
    valid_round: int = -1
    valid_proposal: Proposal | None = None
    valid_proof: tuple[Vote, ...] = ()
    round_prevote: Vote | None = None
    """With step PRECOMMIT: this validator's own prevote of that round. A restart resends it with
    the precommit: a peer that missed the prevote may need it for the round's 2f+1, and nobody
    else may hold it (issue 19: a crash after a prevote that reached only a silent validator)."""
    earlier_precommit: Vote | None = None
    """This validator's precommit of the latest earlier round of the height in which it signed
    one. A restart sends it again: peers still in that round need 2f+1 of its precommits to move
    on, and the copy sent before the crash may have reached no one (issue 19, seed 1006969)."""
