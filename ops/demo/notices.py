"""The demo's notices: every voter's personal link, then a reminder to those the ledger shows have
not voted, both through the file sender; prints where they went and writes `notices.json`.

It plays the credential authority's part with the demo's own voters: their credentials become an
outbox in `votestore roll import`'s format (so notices reads it through its one adapter), and
made-up contacts (half Korean, half English). In the demo the links go out after casting, in one
step, so the reminder can show the ledger's voted markers at work; a real election sends the links
before opening (docs/notices.md).
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
from ops.cli.roll import Credential, write_outbox
from ops.cli.roll import Voter as RollVoter
from ops.demo import plan as demo_plan
from ops.demo.console import DemoConsole
from ops.roles import AUTHORITY_DIR
from votestore.client.ballot import credential_public_key
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


def _voter_id(voter: demo_plan.Voter) -> str:
    return f"voter-{voter.number:05d}"


def _write_inputs(workdir: Path, election_id: str, voters: Sequence[demo_plan.Voter]) -> tuple[Path, Path]:
    issued = [
        Credential(
            RollVoter(_voter_id(v), v.group, ""),
            v.credential,
            credential_public_key(v.credential, election_id),
        )
        for v in voters
    ]
    outbox = workdir / AUTHORITY_DIR / "outbox"  # the credential authority's, not the administrator's
    write_outbox(outbox, election_id, issued, 0, len(issued))
    contacts = workdir / "contacts.csv"
    rows = ["voter_id,phone,email,lang"]
    rows += [
        f"{_voter_id(v)},010{v.number:08d},{_voter_id(v)}@demo.invalid,{'ko' if v.number % 2 else 'en'}"
        for v in voters
    ]
    contacts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return outbox, contacts


def send_demo_notices(
    workdir: Path, node: NodeClient, election_id: str, voters: Sequence[demo_plan.Voter], ui: DemoConsole
) -> DemoNotices:
    out = workdir / "notices-out"
    outbox, contacts_path = _write_inputs(workdir, election_id, voters)
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
        f"credential authority: {result.links} personal links and {result.reminders} reminders "
        f"(the ledger shows {result.voted} voted) by SMS and mail through the file sender"
    )
    ui.note(f"sent to {out / 'sms'} and {out / 'mail'} (one 0600 file per message)")
    ui.note(f"summary: {json.dumps(summary, sort_keys=True)}")
    (workdir / SUMMARY_NAME).write_text(
        json.dumps({"links": result.links, "reminders": result.reminders, "voted": result.voted, **summary}),
        encoding="utf-8",
    )
    return result
