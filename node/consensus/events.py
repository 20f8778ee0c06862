"""What the shell feeds into `Consensus.step`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from node.consensus.messages import Certificate, Proposal, Vote


class TimeoutKind(IntEnum):
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


@dataclass(frozen=True, slots=True)
class Start:
    """Begin: the paper's `StartRound(0)` at init (or the restored round after a restart)."""


@dataclass(frozen=True, slots=True)
class Timeout:
    """A timer set by a `ScheduleTimeout` action has fired (OnTimeoutPropose/Prevote/Precommit)."""

    kind: TimeoutKind
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class ProposalValue:
    """The shell's answer to `RequestProposal`: the paper's `getValue()`."""

    height: int
    round: int
    block_id: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Decided:
    """Catch-up: a block decided elsewhere for the current height, with its certificate.

    `certificate_checked` says the shell has already judged the certificate with the one check
    (`votestore.certificate`, against this core's chain id and validators): catch-up checks each
    served block to set aside a lying peer, and the core then does not verify the same
    signatures a second time. Anything fed from the network unchecked leaves it False.
    """

    certificate: Certificate
    payload: bytes
    certificate_checked: bool = False


@dataclass(frozen=True, slots=True)
class Applied:
    """The shell has applied the last `Commit`: messages buffered for the new height are
    replayed now, so the paper's valid(v) judges their proposals against the applied state
    (any later event replays them too)."""


@dataclass(frozen=True, slots=True)
class SignWithheld:
    """The shell has let this validator sign again (`Consensus.sign_from` at or below the current
    height: the amnesia guard's decision). The votes of the current round that the core cast
    while it could not sign are signed and sent now, as if they had been delayed: nothing else
    was signed at this height, so they conflict with nothing. Without them the round can stall for
    good — with one validator down, the other three need this one's prevote for the 2f+1 prevotes
    that start timeoutPrevote, and it had already left the prevote step in silence."""


Event = Start | Proposal | Vote | Timeout | ProposalValue | Decided | Applied | SignWithheld
