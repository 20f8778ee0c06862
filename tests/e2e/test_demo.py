"""`votestore demo` end to end, as a user runs it: a whole election on real processes with a
validator killed and restarted, exit 0 only with the verifier's pass and the voters' own counts;
Ctrl-C (or SIGTERM) part-way leaves no process and no port behind and says so in one line."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from ops.demo import plan
from ops.demo.options import DEFAULT_SEED
from ops.demo.practice import PRACTICE_SEED_OFFSET, PRACTICE_VOTERS
from tests.e2e import opened_files
from tests.e2e.demo_process import (
    DemoProcess,
    alive,
    demo_addresses,
    descendants,
    listening,
    signal_all,
    wait_gone,
)
from tests.web.browser.page_cluster import build_page

pytestmark = pytest.mark.cluster

VOTERS: Final = 40
INTERRUPTED_VOTERS: Final = 300
"""Enough that casting is still under way when the signal comes."""
RUN_TIMEOUT_S: Final = 420.0
STEP_TIMEOUT_S: Final = 240.0
STOP_TIMEOUT_S: Final = 90.0
EXIT_INTERRUPTED: Final = 130
KEPT_VOTERS: Final = 8
CLI_TIMEOUT_S: Final = 120.0
MIN_PROCESSES: Final = 6
"""Four validators, the identity provider and the gateway, at least (validators may have
proof-checking workers)."""


def _expected(voters: int) -> dict[str, list[int]]:
    """The counts the demo's voters chose, added up here independently of the demo's own code."""
    counts = {"mayor": [0] * len(plan.MAYOR), "council": [0] * len(plan.COUNCIL)}
    for voter in plan.make_voters(voters, DEFAULT_SEED):
        for contest, chosen in (voter.selections or {}).items():
            for choice in chosen:
                counts[contest][choice] += 1
    return counts


def _no_tracebacks(workdir: Path) -> None:
    logs = [*sorted((workdir / "net").glob("node*.log")), workdir / "gateway.log"]
    for log in [*logs, workdir / "identity-provider" / "identity-provider.log"]:
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"


PARTY_STEPS: Final = {
    "administrator": ["keys gen", "election create", "election open", "election close"],
    "credential authority": ["keys gen", "roll import"],
    "identity provider": ["keys gen"],
    **{
        f"trustee {k}": ["trustee keygen", "trustee deal", *(["trustee decrypt"] if k != 2 else [])]
        for k in plan.trustee_numbers()
    },
}
"""Each party's steps in the demo, in order; trustee 2 stays away from the count."""
PARTY_DIRS: Final = {
    "administrator": "administrator",
    "credential authority": "credential-authority",
    "identity provider": "identity-provider",
    **{f"trustee {k}": f"trustee-{k}" for k in plan.trustee_numbers()},
}


def _key_files(workdir: Path) -> dict[Path, str]:
    """Every party's key file (a trustee's sealed under a passphrase only its processes are given),
    and whose it is."""
    return {(workdir / d / "key.json").resolve(): party for party, d in PARTY_DIRS.items()}


def _parties_apart(workdir: Path, demo_pid: int, openers: dict[int, opened_files.Opener]) -> None:
    """Issue 18: each party's steps ran as processes of their own, each opening only files in its
    own directory; no other process (the demo's own, the gateway, a validator) opened a party's
    key file; and the administrator's directory and the commission's hold no credential secret."""
    steps = json.loads((workdir / "outcome.json").read_text())["steps"]
    by_pid = {s["pid"]: s for s in steps}
    keys = _key_files(workdir)
    assert set(keys) <= {p for o in openers.values() for p in o.paths}, "a key file nobody opened"
    for opener in openers.values():
        for path in opener.paths & keys.keys():
            step = by_pid.get(opener.pid)
            server = "identity-provider run" in opener.argv and keys[path] == "identity provider"
            assert server or (step is not None and step["party"] == keys[path]), (
                f"pid {opener.pid} ({opener.argv}) opened {keys[path]}'s {path.name}"
            )
    assert not openers[demo_pid].paths & keys.keys(), "the demo's own process opened a party's key file"

    assert {party: [s["what"] for s in steps if s["party"] == party] for party in PARTY_DIRS} == PARTY_STEPS
    assert len(by_pid) == len(steps) and demo_pid not in by_pid, "each step a process of its own"
    for step in steps:
        own = (workdir / PARTY_DIRS[step["party"]]).resolve()
        assert step["exit_code"] == 0 and step["directory"] == str(workdir / PARTY_DIRS[step["party"]])
        assert step["argv"][1:3] == ["-m", "votestore"], step["argv"]
        opened = openers[step["pid"]].paths
        assert opened, f"no file opened by {step}"
        assert all(own in p.parents for p in opened), (step["party"], step["what"], sorted(opened))
    [server] = [o for o in openers.values() if "identity-provider run" in o.argv]
    public = {(workdir / "net" / "genesis.json").resolve()}
    assert all((workdir / "identity-provider").resolve() in p.parents or p in public for p in server.paths)

    outbox = workdir / "credential-authority" / "outbox" / "voters"
    secrets = [bytes.fromhex(f.read_text()) for f in outbox.iterdir()]
    assert len(secrets) == VOTERS
    files = [f for d in ("administrator", "net") for f in (workdir / d).rglob("*") if f.is_file()]
    assert any(f.name == "key.json" for f in files) and any(f.suffix == ".toml" for f in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data and secret.hex().encode() not in data, f"{path} holds a credential"


def test_demo_runs_a_whole_election_and_leaves_nothing_running(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    opens = tmp_path / "opens"
    audit = opened_files.install(tmp_path / "site", opens, workdir)
    demo = DemoProcess(workdir, ["--voters", str(VOTERS)], audit)
    try:
        demo.wait_for_line("gateway on", STEP_TIMEOUT_S)
        started = descendants(demo.process.pid)
        addresses = demo_addresses(workdir)
        code, out, errors = demo.finish(RUN_TIMEOUT_S)
    finally:
        demo.kill()
    assert code == 0, (errors, out[-2000:])
    assert len(started) >= MIN_PROCESSES, started
    assert alive(started) == set(), "processes left running"
    assert not [a for a in addresses if listening(a)], "ports left open"
    assert "site-3 killed" in out and "site-3 restarted" in out

    outcome = json.loads((workdir / "outcome.json").read_text())
    expected = _expected(VOTERS)
    assert outcome["result"] == expected
    assert outcome["ballots_counted"] == len(plan.casting(plan.make_voters(VOTERS, DEFAULT_SEED)))
    assert outcome["ballots_counted"] == sum(expected["mayor"])
    assert outcome["verifier"] == {
        "passed": True,
        "exit_code": 0,
        "agreed_height": outcome["verifier"]["agreed_height"],
    }
    assert outcome["trustees_used"] == [1, 3]
    assert len({(f["block_hash"], f["app_hash"]) for f in outcome["fingerprints"]}) == 1
    assert [f["node"] for f in outcome["fingerprints"]] == ["site-0", "site-1", "site-2", "site-3"]

    casting = len(plan.casting(plan.make_voters(VOTERS, DEFAULT_SEED)))
    notices = json.loads((workdir / "notices.json").read_text())
    assert (notices["links"], notices["voted"], notices["reminders"]) == (VOTERS, casting, VOTERS - casting)
    assert notices["delivered"] == notices["total"] == 2 * (VOTERS + VOTERS - casting)
    assert len(list((workdir / "notices-out" / "sms").iterdir())) == VOTERS + VOTERS - casting
    assert "personal links" in out and str(workdir / "notices-out" / "sms") in out

    report = (workdir / "report.html").read_text()
    assert "PASS: verifier passed" in report and "<polyline" in report
    for at, choice in enumerate(plan.MAYOR):
        assert f"<td>{choice}</td><td class=num>{expected['mayor'][at]}</td>" in report
    assert "no discrepancies" in report
    _no_tracebacks(workdir)
    _parties_apart(workdir, demo.process.pid, opened_files.read(opens))


@pytest.mark.parametrize(
    ("signum", "during"),
    [(signal.SIGINT, "voters:"), (signal.SIGTERM, "administrator: election")],
    ids=["ctrl-c-while-casting", "sigterm-while-setting-up"],
)
def test_interrupt_part_way_stops_every_process_and_port(
    tmp_path: Path, signum: signal.Signals, during: str
) -> None:
    workdir = tmp_path / "demo"
    demo = DemoProcess(workdir, ["--voters", str(INTERRUPTED_VOTERS)])
    try:
        demo.wait_for_line(during, STEP_TIMEOUT_S)
        started = descendants(demo.process.pid)
        addresses = demo_addresses(workdir)
        assert len(started) >= len(addresses), started
        demo.process.send_signal(signum)
        code, out, errors = demo.finish(STOP_TIMEOUT_S)
    finally:
        demo.kill()
    assert code == EXIT_INTERRUPTED, (errors, out[-2000:])
    assert errors == ["error: interrupted; every process the demo started was stopped"]
    assert alive(started) == set(), "processes left running"
    assert not [a for a in addresses if listening(a)], "ports left open"
    assert not (workdir / "report.html").exists()


def _field(out: str, label: str) -> str:
    line = next(line for line in out.splitlines() if line.strip().startswith(label))
    return line.strip()[len(label) :].strip()


def _votestore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "votestore", *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S
    )


def test_keep_leaves_a_cluster_to_cast_into_and_verify_by_hand(tmp_path: Path) -> None:
    """Also the voter page: built, served by its own process (whose pid is among those to kill),
    and named by the practice election's definition, so the printed `web check` passes."""
    build_page()
    workdir = tmp_path / "demo"
    demo = DemoProcess(workdir, ["--voters", str(KEPT_VOTERS), "--keep"])
    pids: list[int] = []
    try:
        code, out, errors = demo.finish(RUN_TIMEOUT_S)
        assert code == 0, (errors, out[-2000:])
        pids = [int(p) for p in _field(out, "kill").split()]
        gateway = _field(out, "gateway")
        provider = _field(out, "identity-provider")
        genesis = _field(out, "genesis")
        assert alive(pids) == set(pids) and listening(gateway)
        receipt = workdir / "receipt.json"
        practice = plan.make_voters(PRACTICE_VOTERS, DEFAULT_SEED + PRACTICE_SEED_OFFSET)
        cast = _votestore(
            "cast", "--gateway", gateway, "--identity-provider", provider, "--election", "practice",
            "--identity-check", practice[0].identity_check,
            "--credential-file", str(workdir / "practice-voter-0.credential"),
            "--choose", "mayor=ada", "--choose", "council=john", "--receipt-out", str(receipt),
        )  # fmt: skip
        assert cast.returncode == 0, cast.stderr
        check = _votestore("receipt", "check", "--genesis", genesis, "--require-result", str(receipt))
        assert check.returncode == 0, check.stderr
        verify = _votestore("verify", "--genesis", genesis, "--insecure-plaintext")
        assert verify.returncode == 0, verify.stdout[-2000:]
        printed = _field(out, "votestore web check")
        page = _votestore("web", "check", *shlex.split(printed))
        assert page.returncode == 0 and page.stdout.startswith("ok: served bundle"), page.stderr
        signal_all(pids, signal.SIGTERM)
        assert wait_gone(pids, STOP_TIMEOUT_S) == set()
    finally:
        demo.kill()
        signal_all(alive(pids), signal.SIGKILL)
