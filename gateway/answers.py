"""What validators answer about one transaction, and when a broadcast has heard enough."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import grpc  # type: ignore[import-untyped, unused-ignore]

from proto.votestore.v1 import election_pb2, node_pb2


@dataclass(frozen=True, slots=True)
class Accepted:
    validator: int
    committed: bool


@dataclass(frozen=True, slots=True)
class Refused:
    validator: int
    code: int
    detail: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    validator: int
    status: grpc.StatusCode
    detail: str


Answer = Accepted | Refused | Unreachable


@dataclass(frozen=True, slots=True)
class BroadcastOutcome:
    """What the validators said about one transaction, as far as the gateway waited."""

    tracking_code: bytes
    needed: int
    answers: tuple[Answer, ...]

    @property
    def accepted(self) -> int:
        return sum(isinstance(a, Accepted) for a in self.answers)

    @property
    def taken(self) -> bool:
        return self.accepted >= self.needed

    @property
    def committed(self) -> bool:
        """f+1 validators say it is already in a committed block (a resubmitted ballot)."""
        return sum(isinstance(a, Accepted) and a.committed for a in self.answers) >= self.needed

    def refusal(self) -> Refused | None:
        """The reason most validators gave (ties to the lower code, so the answer is stable)."""
        refusals = [a for a in self.answers if isinstance(a, Refused)]
        if not refusals:
            return None
        counts = Counter(r.code for r in refusals)
        code = min(counts, key=lambda c: (-counts[c], c))
        return next(r for r in refusals if r.code == code)

    def oversize(self) -> Unreachable | None:
        """A validator refused the bytes for their size (INVALID_ARGUMENT from its intake)."""
        return next(
            (
                a
                for a in self.answers
                if isinstance(a, Unreachable) and a.status == grpc.StatusCode.INVALID_ARGUMENT
            ),
            None,
        )


def answer_of(index: int, response: node_pb2.SubmitTxResponse) -> Answer:
    """Validator `index`'s answer to one submitted transaction."""
    if response.code == election_pb2.OK:
        return Accepted(index, bool(response.committed))
    return Refused(index, response.code, response.detail)


def decided(answers: list[Answer], n: int, needed: int) -> bool:
    """Stop waiting once f+1 took it, or once f+1 can no longer be reached."""
    accepted = sum(isinstance(a, Accepted) for a in answers)
    return accepted >= needed or accepted + (n - len(answers)) < needed
