"""Planning a campaign: render each voter's message and queue it, once per (voter, channel).

Reminders go only to voters whose credential key has no voted marker on the ledger (the caller
passes `voted`, from notices.targeting). Links ride only in the kinds that need them: the personal
link campaign, and reminders (a voter who lost the first message can still vote).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from notices.model import Channel, Kind, idempotency_key, pack
from notices.outbox import Contact, RollEntry
from notices.store import NoticeStore, Planned
from notices.templates import Renderer

WITH_LINK: Final = frozenset({Kind.LINK, Kind.REMINDER})


@dataclass(frozen=True, slots=True)
class PlanResult:
    campaign: str
    queued: int
    opted_out: int
    already_queued: int
    skipped_voted: int
    no_contact: int


def campaign_id(election_id: str, kind: Kind, name: str = "") -> str:
    return f"{election_id}/{kind.value}" + (f"/{name}" if name else "")


def plan(
    store: NoticeStore,
    renderer: Renderer,
    election_id: str,
    kind: Kind,
    entries: Iterable[RollEntry],
    contacts: Mapping[str, Contact],
    values: Mapping[str, str],
    *,
    name: str = "",
    voted: frozenset[bytes] | None = None,
) -> PlanResult:
    if kind is Kind.REMINDER and voted is None:
        raise ValueError("a reminder needs the ledger's voted set")
    campaign = campaign_id(election_id, kind, name)
    store.add_campaign(campaign, election_id, kind.value)
    planned: list[Planned] = []
    skipped = missing = 0
    for entry in entries:
        if voted is not None and entry.credential_key in voted:
            skipped += 1
            continue
        contact = contacts.get(entry.voter_id)
        if contact is None or not (contact.phone or contact.email):
            missing += 1
            continue
        fields = {"election": election_id, **values}
        fields["link"] = entry.link if kind in WITH_LINK else ""
        for channel, address in ((Channel.SMS, contact.phone), (Channel.MAIL, contact.email)):
            if not address:
                continue
            message = renderer.render(kind, contact.lang, channel, fields)
            key = idempotency_key(election_id, campaign, entry.voter_id, channel)
            planned.append(Planned(entry.voter_id, channel, address, key, pack(message)))
    queued, opted_out = store.enqueue(campaign, planned)
    return PlanResult(campaign, queued, opted_out, len(planned) - queued - opted_out, skipped, missing)
