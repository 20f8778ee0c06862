"""Acceptance: a campaign across a kill -9 of the sender, against a real local SMTP server
(aiosmtpd) and a local SMS provider that fails one request in ten (half of those after doing the
work), slows every request by a seeded random delay, answers delivery reports and honours
idempotency keys. After the restart: every notice delivered at least once; to the SMS provider
exactly once; over SMTP the duplicates no more than the notices in flight at the crash. The
sender runs as a real `votestore notices send` process; no secret reaches its logs or the queue
file in clear.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from notices.model import Channel, Kind, State
from notices.outbox import read_contacts, read_outbox
from notices.plan import plan
from notices.store import NoticeStore
from notices.templates import Renderer
from ops.cli.roll import Voter, issue_credentials, write_outbox
from tests.notices.conftest import PASSPHRASE
from tests.notices.fakes import FakeSmsProvider, SmtpSink
from votestore.crypto.sealing import INTERACTIVE

ELECTION = "crash-e1"
VOTERS = 80
TOKEN = "sms-api-token-for-tests"
KILL_AT_FRACTION = 0.3
RUN_TIMEOUT_S = 120.0


def make_outbox(tmp: Path, voters: int, election: str = ELECTION) -> tuple[Path, Path, list[str]]:
    """A real outbox written by `votestore roll import`'s own writer, and a contacts CSV."""
    roll = [Voter(f"v{n:04d}", "", "") for n in range(voters)]
    issued = issue_credentials(roll, election)
    outbox = tmp / "outbox"
    write_outbox(outbox, election, issued, 0, 500)
    contacts = tmp / "contacts.csv"
    lines = ["voter_id,phone,email,lang"]
    lines += [f"v{n:04d},010{n:08d},v{n:04d}@example.test,{'ko' if n % 2 else 'en'}" for n in range(voters)]
    contacts.write_text("\n".join(lines) + "\n")
    return outbox, contacts, [c.secret.hex() for c in issued]


def write_config(path: Path, smtp_port: int, provider: FakeSmsProvider, report_wait_s: float) -> None:
    path.write_text(
        f"""
[policy]
concurrency = 8
max_attempts = 40
backoff_base_s = 0.02
backoff_cap_s = 0.3
send_timeout_s = 10
idle_poll_s = 0.02
run_limit_s = 90
report_wait_s = {report_wait_s}

[mail]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
sender = "notices@votestore.test"

[sms]
kind = "http"
url = "{provider.url}"
sender_number = "0200000000"
auth_env = "TEST_SMS_TOKEN"
auth_prefix = "Bearer "
report_url = "{provider.url}/{{message_id}}"
"""
    )


def sender_process(store: Path, config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VOTESTORE_NOTICES_PASSPHRASE": PASSPHRASE, "TEST_SMS_TOKEN": TOKEN}
    command = [sys.executable, "-m", "votestore", "notices", "send", "--store", str(store)]
    command += ["--config", str(config), "--seed", "7", "--json", "--no-progress"]
    with log.open("ab") as err:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err)


def test_kill_9_mid_campaign_delivers_all_sms_once_and_bounds_mail_duplicates(tmp_path: Path) -> None:
    outbox, contacts, secrets = make_outbox(tmp_path, VOTERS)
    store_path = tmp_path / "notices.db"
    store = NoticeStore.open(store_path, PASSPHRASE, create=True, limits=INTERACTIVE)
    planned = plan(
        store,
        Renderer(),
        ELECTION,
        Kind.LINK,
        read_outbox(outbox),
        read_contacts(contacts),
        {"closes": "Fri"},
    )
    store.close()
    total = 2 * VOTERS
    assert planned.queued == total
    log = tmp_path / "sender.log"
    config = tmp_path / "notices.toml"
    with (
        FakeSmsProvider(seed=11, fail_every=10, max_delay_s=0.06, token=TOKEN) as provider,
        SmtpSink() as sink,
    ):
        write_config(config, sink.port, provider, report_wait_s=20)
        first = sender_process(store_path, config, log)
        deadline = time.monotonic() + 60
        while len(provider.log.created) + sum(sink.received.values()) < total * KILL_AT_FRACTION:
            assert first.poll() is None, "sender ended before the kill"
            assert time.monotonic() < deadline, "sender made no progress"
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL

        store = NoticeStore.open(store_path, PASSPHRASE)
        in_flight = store.in_state(State.SENDING)
        left = store.summary().as_dict()
        store.close()
        mail_in_flight = sum(1 for n in in_flight if n.channel is Channel.MAIL)
        assert int(str(left["pending"])) > 0, "the kill came after the campaign: nothing to test"

        second = sender_process(store_path, config, log)
        out, _ = second.communicate(timeout=RUN_TIMEOUT_S)
        assert second.returncode == 0, log.read_text()
        summary = json.loads(out)

    assert summary["recovered_in_flight"] == len(in_flight)
    assert summary["delivered"] == total and summary["pending"] == 0 and summary["failed"] == 0, summary
    store = NoticeStore.open(store_path, PASSPHRASE)
    sms_keys = {n.idem_key for n in store.in_state(State.DELIVERED) if n.channel is Channel.SMS}
    mail_keys = {n.idem_key for n in store.in_state(State.DELIVERED) if n.channel is Channel.MAIL}
    store.close()
    assert len(sms_keys) == len(mail_keys) == VOTERS

    # SMS: every key sent to a phone exactly once, though some were posted more than once.
    assert set(provider.log.created) == sms_keys
    assert set(provider.log.created.values()) == {1}
    assert provider.log.failed_after >= 1 and provider.log.repeats >= provider.log.failed_after
    # Mail: each at least once; duplicates only from what was in flight at the crash.
    received = {mid.strip("<>").split("@")[0]: count for mid, count in sink.received.items()}
    assert set(received) == mail_keys
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= mail_in_flight, (duplicates, mail_in_flight)

    # No link secret in the sender's logs or output, nor in clear in the queue's files.
    text = log.read_text() + out.decode()
    assert "notice sent key=" in text and "recovered=" in text  # the log is there to be searched
    for secret in secrets:
        assert secret not in text
    for file in tmp_path.glob("notices.db*"):
        raw = file.read_bytes()
        assert not any(secret.encode() in raw for secret in secrets), file
    # The provider did receive the link (it must: that is the message), as LMS: too long for SMS.
    assert all(body["type"] == "LMS" for body in provider.log.bodies)
    assert sum(any(s in body["text"] for s in secrets) for body in provider.log.bodies) == VOTERS
