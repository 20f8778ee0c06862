"""`votestore ledger export --data-dir`: a stopped node's store straight into a ledger file, so the
verifier judges a store its node would refuse to serve, naming node and height (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.node.store_kit import GENESIS, block_key, flip_byte, grow, open_store

VOTESTORE = str(Path(sys.executable).parent / "votestore")
BLOCKS = 30
DAMAGED = 17


def _votestore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VOTESTORE, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    genesis = tmp_path / "genesis.json"
    genesis.write_text(GENESIS.to_json())
    db = tmp_path / "site-2"
    store = open_store(db)
    try:
        grow(store, BLOCKS)
    finally:
        store.close()
    return genesis, db


def _export_and_verify(
    genesis: Path, db: Path, out: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    exported = _votestore(
        "ledger", "export", "--genesis", str(genesis), "--data-dir", str(db), "--out", str(out)
    )
    assert exported.returncode == 0, exported.stderr
    report = out.with_suffix(".report.json")
    verified = _votestore("verify", "--genesis", str(genesis), "--ledger", str(out), "--json", str(report))
    return verified, json.loads(report.read_text())


def test_a_sound_store_exports_and_verifies_clean(setup: tuple[Path, Path], tmp_path: Path) -> None:
    genesis, db = setup
    verified, report = _export_and_verify(genesis, db, tmp_path / "sound.ledger")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert report["agreed_height"] == BLOCKS


def test_a_damaged_store_is_named_by_node_and_height(setup: tuple[Path, Path], tmp_path: Path) -> None:
    genesis, db = setup
    flip_byte(db, block_key(DAMAGED))
    verified, report = _export_and_verify(genesis, db, tmp_path / "damaged.ledger")
    assert verified.returncode == 1, verified.stdout
    named = [(f["nodes"], f["height"]) for f in report["findings"]]
    assert (["site-2"], DAMAGED) in named, report["findings"]


def test_a_store_in_use_or_absent_is_one_error_line(setup: tuple[Path, Path], tmp_path: Path) -> None:
    genesis, db = setup
    store = open_store(db)
    try:
        held = _votestore(
            "ledger", "export", "--genesis", str(genesis), "--data-dir", str(db), "--out", str(tmp_path / "x")
        )
    finally:
        store.close()
    assert held.returncode == 1 and held.stderr.count("\n") == 1, held.stderr
    assert "is in use by another process" in held.stderr
    absent = _votestore(
        "ledger",
        "export",
        "--genesis",
        str(genesis),
        "--data-dir",
        str(tmp_path / "none"),
        "--out",
        str(tmp_path / "y"),
    )
    assert absent.returncode == 1 and absent.stderr == f"error: no store in {tmp_path / 'none'}\n"
    assert not (tmp_path / "none").exists() and not (tmp_path / "x").exists()


def test_a_closed_elections_voter_district_is_named_from_a_marked_store(tmp_path: Path) -> None:
    """Row 1 of issue 21, through the verifier: the flip passed start and the verifier said 'no
    discrepancies' (it compared only election states). Now `ledger export --data-dir` exports
    every state record, also from a store its node marked damaged, and the verifier's replay
    names the record, the node and the height."""
    from node.ledger.damage import MARKER, mark
    from tests.ledger.election_kit import voter_key
    from tests.node.state_kit import GENESIS as ELECTION_GENESIS
    from tests.node.state_kit import build, roll_key
    from votestore.errors import StoreCorrupted

    genesis = tmp_path / "genesis.json"
    genesis.write_text(ELECTION_GENESIS.to_json())
    db = tmp_path / "site-2"
    build(db, closed=True)
    flip_byte(db, roll_key(3), at=-1)
    mark(db, StoreCorrupted(2, "test"), "at start")
    assert (db / MARKER).is_file()
    verified, report = _export_and_verify(genesis, db, tmp_path / "marked.ledger")
    assert verified.returncode == 1, verified.stdout
    voter = voter_key(3)[:8].hex()
    named = [(f["nodes"], f["height"], f["record"]) for f in report["findings"]]
    tip = report["agreed_height"]
    assert (["site-2"], tip, f"state record roll entry (election 'e1', voter {voter}…)") in named, named
