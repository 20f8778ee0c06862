"""`votestore notices …` as an operator runs it: plan, send through the file sender, summary
--json, opt-out, re-plan; and a missing passphrase or bad file is one `error:` line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.notices.conftest import PASSPHRASE
from tests.notices.test_crash import make_outbox

VOTERS = 6


def _votestore(*args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOTESTORE_NOTICES_PASSPHRASE": passphrase}
    return subprocess.run(
        [sys.executable, "-m", "votestore", "notices", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_plan_send_summary_and_opt_out(tmp_path: Path) -> None:
    outbox, contacts, secrets = make_outbox(tmp_path, VOTERS, "cli-e1")
    store = str(tmp_path / "q.db")
    config = tmp_path / "notices.toml"
    out = tmp_path / "out"
    config.write_text(f'[mail]\nkind = "file"\ndir = "{out}"\n[sms]\nkind = "file"\ndir = "{out}"\n')
    common = ["--store", store, "--election", "cli-e1", "--outbox", str(outbox), "--contacts", str(contacts)]

    planned = _votestore("plan", *common, "--kind", "link", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout) == {
        "campaign": "cli-e1/link",
        "queued": 2 * VOTERS,
        "opted_out": 0,
        "already_queued": 0,
        "skipped_voted": 0,
        "no_contact": 0,
    }
    again = _votestore("plan", *common, "--kind", "link", "--json")
    assert json.loads(again.stdout)["already_queued"] == 2 * VOTERS

    opted = _votestore("opt-out", "--store", store, "v0001")
    assert opted.returncode == 0 and "2 queued notices stopped" in opted.stdout

    sent = _votestore("send", "--store", store, "--config", str(config), "--json")
    assert sent.returncode == 0, sent.stderr
    summary = json.loads(sent.stdout)
    assert (summary["delivered"], summary["opted_out"], summary["pending"]) == (2 * VOTERS - 2, 2, 0)
    files = sorted((out / "sms").iterdir()) + sorted((out / "mail").iterdir())
    assert len(files) == 2 * VOTERS - 2
    assert sum(secrets[0] in f.read_text() for f in files) == 2  # voter 0's link, by SMS and by mail
    assert not any(secrets[1] in f.read_text() for f in files)  # voter 1 opted out
    for secret in secrets:
        assert secret not in sent.stdout + sent.stderr

    closing = _votestore("plan", *common, "--kind", "closing", "--closes", "tonight")
    assert closing.returncode == 0 and "queued=10 opted_out=2" in closing.stdout
    shown = _votestore("summary", "--store", store, "--campaign", "cli-e1/closing", "--json")
    assert json.loads(shown.stdout)["opted_out"] == 2 and json.loads(shown.stdout)["pending"] == 10


def test_errors_are_one_line(tmp_path: Path) -> None:
    store = str(tmp_path / "q.db")
    nothing = _votestore("summary", "--store", store, passphrase="")
    assert nothing.returncode == 1 and nothing.stderr.strip().startswith(
        "error: set VOTESTORE_NOTICES_PASSPHRASE"
    )
    missing = _votestore("summary", "--store", store)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    outbox, contacts, _ = make_outbox(tmp_path, 2, "cli-e2")
    reminder = _votestore(
        "plan", "--store", store, "--election", "cli-e2", "--kind", "reminder",
        "--outbox", str(outbox), "--contacts", str(contacts),
    )  # fmt: skip
    assert reminder.returncode == 1 and "give --node" in reminder.stderr
    made = _votestore(
        "plan", "--store", store, "--election", "cli-e2", "--kind", "link",
        "--outbox", str(outbox), "--contacts", str(contacts),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    wrong = _votestore("summary", "--store", store, passphrase="not the passphrase")
    assert wrong.returncode == 1 and "wrong passphrase" in wrong.stderr
    for result in (nothing, missing, reminder, wrong):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
