"""What a notice is: its campaign kind, channel, state and idempotency key.

The idempotency key is a pure function of (election, campaign, voter, channel), so planning a
campaign twice, or resending after a crash, gives the provider the same key and an honest
provider delivers once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

IDEMPOTENCY_DOMAIN: Final = b"votestore/v1/notice-idempotency\x00"


class Kind(StrEnum):
    """A campaign's purpose; each has its template (notices/templates/<lang>/<kind>.j2)."""

    LINK = "link"
    OPENING = "opening"
    REMINDER = "reminder"
    CLOSING = "closing"
    RESULT = "result"


class Channel(StrEnum):
    SMS = "sms"
    MAIL = "mail"


class State(StrEnum):
    """queued -> sending -> sent -> delivered | failed; queued -> opted-out. A row left in
    `sending` by a crash goes back to `queued` at the next start (sent at least once)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    OPTED_OUT = "opted-out"


PENDING: Final = frozenset({State.QUEUED, State.SENDING})
FINAL: Final = frozenset({State.DELIVERED, State.FAILED, State.OPTED_OUT})


def idempotency_key(election_id: str, campaign: str, voter_id: str, channel: Channel) -> str:
    """32 hex characters; fields length-prefixed so no two tuples share an encoding."""
    digest = hashlib.sha256(IDEMPOTENCY_DOMAIN)
    for part in (election_id, campaign, voter_id, channel.value):
        raw = part.encode("utf-8")
        digest.update(len(raw).to_bytes(4, "big") + raw)
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notice: what the voter reads. `text` may hold a personal link (a secret)."""

    subject: str
    text: str
    sms_type: str  # "SMS" or "LMS" for the SMS channel, "" for mail

    def __repr__(self) -> str:
        return f"Message(subject={self.subject!r}, <text {len(self.text)} chars>, {self.sms_type})"


@dataclass(frozen=True, slots=True)
class Notice:
    """One queued record as a sender needs it: the address in clear, the message sealed."""

    row_id: int
    campaign: str
    voter_id: str
    channel: Channel
    address: str
    idem_key: str
    sealed: bytes
    state: State
    attempts: int
    provider_id: str


def pack(message: Message) -> bytes:
    """The bytes sealed into the queue."""
    return json.dumps(
        {"subject": message.subject, "text": message.text, "sms_type": message.sms_type}, ensure_ascii=False
    ).encode("utf-8")


def unpack(plain: bytes) -> Message:
    fields = json.loads(plain.decode("utf-8"))
    return Message(str(fields["subject"]), str(fields["text"]), str(fields["sms_type"]))
