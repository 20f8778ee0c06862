"""The demo's notices: every voter's personal link, then a reminder to those the ledger shows have
not voted, both through the file sender; prints where they went and writes `notices.json`.

It reads the outbox the credential authority's `votestore roll import` wrote (through notices'
one adapter), with made-up contacts (half Korean, half English). In the demo the links go out
after casting, in one step, so the reminder can show the ledger's voted markers at work; a real
election sends the links before opening (docs/notices.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notices.delivery import Delivery, Policy
from notices.model import Channel, Kind
from notices.outbox import read_contacts, read_outbox
from notices.plan import plan
from notices.senders.file import FileSender
from notices.store import NoticeStore
from notices.targeting import voted_keys
from notices.templates import Renderer
from ops.demo import plan as demo_plan
from ops.demo.console import DemoConsole
from votestore.client.node import NodeClient
from votestore.crypto.sealing import INTERACTIVE

DEMO_PASSPHRASE: Final = "demo only: a real store's passphrase comes from VOTESTORE_NOTICES_PASSPHRASE"
SUMMARY_NAME: Final = "notices.json"


@dataclass(frozen=True, slots=True)
class DemoNotices:
    links: int
    reminders: int
    voted: int
    out: Path


def _write_contacts(workdir: Path, voters: Sequence[demo_plan.Voter]) -> Path:
    contacts = workdir / "contacts.csv"
    rows = ["voter_id,phone,email,lang"]
    for v in voters:
        vid = demo_plan.voter_id(v)
        rows.append(f"{vid},010{v.number:08d},{vid}@demo.invalid,{'ko' if v.number % 2 else 'en'}")
    contacts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return contacts


def send_demo_notices(
    workdir: Path,
    node: NodeClient,
    election_id: str,
    outbox: Path,
    voters: Sequence[demo_plan.Voter],
    ui: DemoConsole,
) -> DemoNotices:
    """`outbox`: the credential authority's, from `roll import` (the personal links)."""
    out = workdir / "notices-out"
    contacts_path = _write_contacts(workdir, voters)
    entries, contacts = read_outbox(outbox), read_contacts(contacts_path)
    store = NoticeStore.open(workdir / "notices.db", DEMO_PASSPHRASE, create=True, limits=INTERACTIVE)
    try:
        renderer = Renderer()
        values = {"closes": "in 24 hours"}
        links = plan(store, renderer, election_id, Kind.LINK, entries, contacts, values)
        voted = voted_keys(node, election_id)
        reminders = plan(store, renderer, election_id, Kind.REMINDER, entries, contacts, values, voted=voted)
        sender = FileSender(out)
        senders = {Channel.SMS: sender, Channel.MAIL: sender}
        done = asyncio.run(Delivery(store, senders, Policy(concurrency=16)).run())
    finally:
        store.close()
    summary = done.summary.as_dict()
    result = DemoNotices(links.queued // 2, reminders.queued // 2, len(voted), out)
    ui.step(
        f"notice provider: {result.links} personal links (the credential authority's outbox) and "
        f"{result.reminders} reminders (the ledger shows {result.voted} voted) by SMS and mail "
        "through the file sender"
    )
    ui.note(f"sent to {out / 'sms'} and {out / 'mail'} (one 0600 file per message)")
    ui.note(f"summary: {json.dumps(summary, sort_keys=True)}")
    (workdir / SUMMARY_NAME).write_text(
        json.dumps({"links": result.links, "reminders": result.reminders, "voted": result.voted, **summary}),
        encoding="utf-8",
    )
    return result
