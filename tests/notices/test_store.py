"""The durable queue: idempotent planning, claim/recover across a crash, opt-out, sealing at rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from notices.model import Channel, Message, idempotency_key, pack, unpack
from notices.store import NoticeStore, Planned
from tests.notices.conftest import PASSPHRASE
from votestore.crypto.errors import SealError
from votestore.crypto.sealing import INTERACTIVE

SECRET_LINK = "votestore://cast?election=e1&credential=" + "5e" * 32


def _planned(voter: str, channel: Channel = Channel.SMS) -> Planned:
    message = Message("subject", f"hello {voter} {SECRET_LINK}", "LMS")
    key = idempotency_key("e1", "e1/link", voter, channel)
    return Planned(voter, channel, f"+8210{voter}", key, pack(message))


def test_idempotency_key_is_per_voter_campaign_and_channel() -> None:
    base = idempotency_key("e1", "c", "v1", Channel.SMS)
    assert base == idempotency_key("e1", "c", "v1", Channel.SMS)
    others = {
        idempotency_key("e2", "c", "v1", Channel.SMS),
        idempotency_key("e1", "c2", "v1", Channel.SMS),
        idempotency_key("e1", "c", "v2", Channel.SMS),
        idempotency_key("e1", "c", "v1", Channel.MAIL),
        idempotency_key("e1c", "", "v1", Channel.SMS),
    }
    assert base not in others and len(others) == 5


def test_planning_twice_queues_once_and_claim_marks_sending(store: NoticeStore) -> None:
    store.add_campaign("e1/link", "e1", "link")
    assert store.enqueue("e1/link", [_planned("1"), _planned("2")]) == (2, 0)
    assert store.enqueue("e1/link", [_planned("1"), _planned("2"), _planned("3")]) == (1, 0)
    claimed = store.claim(2, now=1e12)
    assert [n.voter_id for n in claimed] == ["1", "2"] and all(n.attempts == 1 for n in claimed)
    assert unpack(store.box.open(claimed[0].sealed)).text.endswith(SECRET_LINK)
    assert store.summary().as_dict()["pending"] == 3
    store.mark_sent(claimed[0].row_id, "p-1", delivered=False)
    assert store.mark_report("p-1", delivered=True) == 1
    assert store.mark_report("p-1", delivered=False, reason="late") == 0  # final states stay
    assert store.recover() == 1  # voter 2 was in flight
    again = store.claim(10, now=1e12)
    assert sorted(n.voter_id for n in again) == ["2", "3"]
    assert {n.voter_id: n.attempts for n in again} == {"2": 2, "3": 1}


def test_retry_waits_and_failures_counted_by_reason(store: NoticeStore) -> None:
    store.add_campaign("e1/link", "e1", "link")
    store.enqueue("e1/link", [_planned("1"), _planned("2")])
    one, two = store.claim(2, now=100.0)
    store.mark_retry(one.row_id, "http_503", next_at=200.0)
    store.mark_failed(two.row_id, "rejected_recipient")
    assert store.claim(2, now=150.0) == []
    assert store.next_due() == 200.0
    assert [n.voter_id for n in store.claim(2, now=200.0)] == ["1"]
    summary = store.summary().as_dict()
    assert summary["failed_by_reason"] == {"rejected_recipient": 1} and summary["pending"] == 1


def test_opt_out_stops_queued_and_later_campaigns(store: NoticeStore) -> None:
    store.add_campaign("e1/link", "e1", "link")
    store.enqueue("e1/link", [_planned("1"), _planned("2")])
    assert store.opt_out("1") == 1
    assert [n.voter_id for n in store.claim(10, now=1e12)] == ["2"]
    store.add_campaign("e1/reminder", "e1", "reminder")
    key = idempotency_key("e1", "e1/reminder", "1", Channel.SMS)
    assert store.enqueue("e1/reminder", [Planned("1", Channel.SMS, "+82101", key, b"{}")]) == (0, 1)
    assert store.summary("e1/reminder").as_dict()["opted_out"] == 1


def test_links_sealed_at_rest_and_passphrase_needed(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    store = NoticeStore.open(path, PASSPHRASE, create=True, limits=INTERACTIVE)
    store.add_campaign("e1/link", "e1", "link")
    store.enqueue("e1/link", [_planned(str(n)) for n in range(20)])
    store.close()
    secret = SECRET_LINK.rsplit("=", 1)[1]
    for file in tmp_path.iterdir():
        assert secret.encode() not in file.read_bytes(), file
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(SealError):
        NoticeStore.open(path, "wrong passphrase")
    reopened = NoticeStore.open(path, PASSPHRASE)
    assert reopened.summary().as_dict()["pending"] == 20
    reopened.close()
