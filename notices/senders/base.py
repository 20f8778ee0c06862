"""The interface every sender keeps, and how it reports failure.

A sender sends one rendered message to one address and says either `Accepted(provider_id,
final)` or raises `SendFailed(reason, transient)`. `reason` is a short token (`http_503`,
`timeout`, `recipient_refused`) that the summary counts by; it never holds message text. The
delivery loop (notices.delivery) owns retries, rate limits and state; senders own only the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from notices.model import Channel, Message
from votestore.errors import VotestoreError


@dataclass(frozen=True, slots=True)
class Outgoing:
    channel: Channel
    address: str
    idem_key: str
    message: Message

    def __repr__(self) -> str:
        return f"Outgoing({self.channel}, key={self.idem_key})"


@dataclass(frozen=True, slots=True)
class Accepted:
    """`final`: acceptance is the last word (a file written); else a delivery report follows."""

    provider_id: str
    final: bool


@dataclass(frozen=True, slots=True)
class Report:
    """A provider's word on a sent message: delivered, failed (with a reason), or not yet."""

    delivered: bool | None
    reason: str = ""


class SendFailed(VotestoreError):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(f"{'transient' if transient else 'permanent'}: {reason}")
        self.reason = reason
        self.transient = transient


class Sender(Protocol):
    name: str
    rate_per_s: float
    """Sends per second this provider allows; 0 is no limit."""

    async def send(self, outgoing: Outgoing) -> Accepted: ...

    async def close(self) -> None: ...


@runtime_checkable
class ReportReader(Protocol):
    """A sender whose provider reports delivery later (polled by notices.delivery)."""

    async def report(self, provider_id: str) -> Report: ...
