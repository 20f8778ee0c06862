"""The fixed validator set and the timeout schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from node.consensus.events import TimeoutKind

MIN_VALIDATORS: Final = 4
MAX_VALIDATORS: Final = 2**16


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """`size` validators of equal power, indexed 0..size-1 (genesis order).

    `quorum` is "more than two thirds" (⌊2n/3⌋+1): it equals the paper's 2f+1 when n = 3f+1 and
    stays safe for other n (with n = 5, 2f+1 = 3 would let two quorums meet in one faulty node).
    """

    size: int

    def __post_init__(self) -> None:
        if not MIN_VALIDATORS <= self.size <= MAX_VALIDATORS:
            raise ValueError(
                f"validator set size must be {MIN_VALIDATORS}..{MAX_VALIDATORS}, got {self.size}"
            )

    @property
    def f(self) -> int:
        return (self.size - 1) // 3

    @property
    def quorum(self) -> int:
        return 2 * self.size // 3 + 1

    @property
    def skip(self) -> int:
        """f+1: enough senders that at least one is correct (the paper's round-skip rule, line 55)."""
        return self.f + 1

    def proposer(self, height: int, round_: int) -> int:
        """Round-robin by (height, round): every validator proposes in turn, at every height."""
        return (height + round_) % self.size

    def __contains__(self, validator: object) -> bool:
        return isinstance(validator, int) and 0 <= validator < self.size


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """timeoutX(r) = base + r * delta, in milliseconds (paper: timeouts grow with the round so
    that after GST they eventually exceed the message delay)."""

    propose_ms: int = 3000
    prevote_ms: int = 1000
    precommit_ms: int = 1000
    delta_ms: int = 500

    def __post_init__(self) -> None:
        # delta > 0: timeouts must grow with the round to outlast the message delay after GST.
        if min(self.propose_ms, self.prevote_ms, self.precommit_ms, self.delta_ms) <= 0:
            raise ValueError("timeouts and their per-round increment must be positive")

    def duration_ms(self, kind: TimeoutKind, round_: int) -> int:
        assert round_ >= 0
        base = {
            TimeoutKind.PROPOSE: self.propose_ms,
            TimeoutKind.PREVOTE: self.prevote_ms,
            TimeoutKind.PRECOMMIT: self.precommit_ms,
        }[kind]
        return base + round_ * self.delta_ms
