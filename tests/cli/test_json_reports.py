"""`--json` on every report (issue 22): every command of the CLI is either a report, which takes
`--json` and then prints one parseable JSON document on stdout, or is listed below with why it
has none — so a new command has to choose. The offline reports are run here on real files (a
store made by tests/node/store_kit.py, key files, genesis); the ones that need a running chain
are run with --json by their cluster tests, named in REPORTS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
import typer.main

from ops.cli.app import build
from tests.node.store_kit import GENESIS, grow, open_store

app = build()  # every group (ops.cli.app.build)

VOTESTORE = Path(sys.executable).parent / "votestore"

REPORTS: Final = {
    "verify": "here (--json - prints the report; --json FILE writes it)",
    "sim": "here (--json -, as verify)",
    "keys show": "here",
    "genesis hash": "here",
    "trustee show": "here",
    "node check": "here",
    "node backup": "here",
    "node restore": "here",
    "ledger export": "here",
    "node status": "tests/cli/test_node_status.py",
    "election show": "tests/cli/test_admin_flow.py",
    "receipt check": "tests/gateway/test_cli.py",
    "ballot audit": "tests/web/browser/test_voter_page.py (an audit record the page made)",
    "ballot audited": "tests/gateway/test_cluster.py (an audited ballot published through the gateway)",
    "election open": "tests/cli/test_admin_flow.py",
    "election close": "tests/cli/test_admin_flow.py",
    "trustee deal": "tests/cli/test_admin_flow.py",
    "trustee complain": "tests/cli/test_admin_flow.py",
    "trustee decrypt": "tests/cli/test_admin_flow.py",
    "election create": "takes it (Outcome, as open/close): not run with --json yet",
    "notices plan": "tests/notices/test_cli_notices.py",
    "notices send": "tests/notices/test_cli_notices.py",
    "notices reports": "tests/notices/test_cli_notices.py",
    "notices summary": "tests/notices/test_cli_notices.py",
    "roll import": "tests/cli/test_admin_flow.py",
    "cast": "tests/gateway/test_cli.py",
    "web check": "tests/web/test_bundle_check.py",
}
"""Report commands, and where their --json output is parsed."""

NO_REPORT: Final = {
    "node run": "a server: logs, no report",
    "gateway run": "a server: logs, no report",
    "identity-provider run": "a server: logs, no report",
    "web serve": "a server: prints its address, no report",
    "verifier run": "a follower: logs and metrics; `verify --json` is the report",
    "demo": "a show for a person, with progress",
    "node init": "writes a key and a config; prints the public key (keys show --json reads it)",
    "keys gen": "writes a key file; prints the public key (keys show --json reads it)",
    "keys seal": "rewrites a key file sealed; prints the public key (keys show --json reads it)",
    "keys tls issue": "writes three files and names them",
    "keys tls bundle": "writes one file and names it",
    "genesis init": "writes the genesis file; prints its hash (genesis hash --json reads it)",
    "trustee keygen": "prints the [[trustees]] TOML table the definition takes (trustee show --json)",
    "notices opt-out": "records one opt-out",
}
"""Commands that print no report, each with why."""

NOT_YET: Final[dict[str, str]] = {}
"""Commands that report an outcome in text only: issue 22's `--json` is not done for them yet."""


def _commands() -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group (typer vendors click: no isinstance)
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_is_a_report_or_says_why_not() -> None:
    lists = (REPORTS.keys(), NO_REPORT.keys(), NOT_YET.keys())
    assert sum(len(k) for k in lists) == len(set().union(*lists)), "a command in two lists"
    assert set(_commands()) == set().union(*lists)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_takes_json(name: str) -> None:
    assert "--json" in {o for p in _commands()[name].params for o in p.opts}, name


def _json(*args: str | Path, code: int = 0) -> Any:
    done = subprocess.run(
        [str(VOTESTORE), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_the_offline_reports_print_json(tmp_path: Path) -> None:
    genesis = tmp_path / "genesis.json"
    genesis.write_text(GENESIS.to_json())
    data = tmp_path / "node.data"
    store = open_store(data)
    try:
        grow(store, 5)
    finally:
        store.close()

    assert _json("genesis", "hash", genesis, "--json")["genesis_hash"] == GENESIS.hash().hex()
    key = tmp_path / "k.json"
    public = subprocess.run(
        [str(VOTESTORE), "keys", "gen", "--out", key], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert _json("keys", "show", key, "--json")["public_key"] == public
    passphrase = tmp_path / "pass"
    passphrase.write_text("a walk-through passphrase\n")
    trustee = tmp_path / "ann.key"
    keygen = ["trustee", "keygen", "--out", trustee, "--name", "ann", "--passphrase-file", passphrase]
    subprocess.run(
        [str(VOTESTORE), *map(str, keygen), "--kdf", "interactive"], capture_output=True, check=True
    )
    assert _json("trustee", "show", "--key", trustee, "--json")["name"] == "ann"
    checked = _json("node", "check", data, "--genesis", genesis, "--json")
    assert checked == {
        "store_ok": True,
        "data_dir": str(data),
        "blocks_checked": 5,
        "damaged": [],
        "marked_damaged": None,
        "mark_cleared": False,
    }
    backup = tmp_path / "b.tar"
    made = _json("node", "backup", "--data-dir", data, "--genesis", genesis, "--out", backup, "--json")
    assert made["height"] == 5 and made["chain_id"] == GENESIS.chain_id
    restored = _json("node", "restore", backup, "--data-dir", data, "--genesis", genesis, "--json")
    assert restored["height"] == 5 and restored["watch_before_signing"] is False
    ledger = tmp_path / "node.ledger"
    exported = _json("ledger", "export", "--genesis", genesis, "--data-dir", data, "--out", ledger, "--json")
    assert exported["blocks"] == 5
    report = _json("verify", "--genesis", genesis, "--ledger", ledger, "--json", "-")
    assert isinstance(report, dict) and report, report
    simulated = _json("sim", "--runs", "1", "--heights", "1", "--json", "-")
    assert simulated["summary"]["violations"] == 0
