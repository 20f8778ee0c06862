"""The start-up check costs no more for a longer chain, yet finds damage above its record; the
offline `votestore node check` finds what the start did not read. Real LevelDB throughout."""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import plyvel
import pytest

from node.config import NodeConfig
from node.ledger.check_ahead import keep_checking
from node.ledger.store import SPOT_CHECKS, StartCheck, Store
from node.main import open_store as node_open_store
from ops.cluster import LocalNet
from tests.node.store_kit import GENESIS, block_key, flip_byte, grow, open_store
from votestore.errors import StoreCorrupted

VOTESTORE = Path(sys.executable).parent / "votestore"
CHECKED_KEY = b"k/checked"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-block store whose start check is recorded at height 200 (100 blocks above it)."""
    path = tmp_path_factory.mktemp("template") / "db"
    store = open_store(path)
    try:
        grow(store, 200)
    finally:
        store.close()
    _start(path)  # no record yet: the whole chain, then the record
    store = open_store(path)
    try:
        grow(store, 100)
    finally:
        store.close()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "db"
    subprocess.run(["cp", "-r", str(template), str(path)], check=True)
    return path


@pytest.fixture
def genesis_file(tmp_path: Path) -> Path:
    path = tmp_path / "genesis.json"
    path.write_text(GENESIS.to_json())
    return path


def _config(data_dir: Path) -> NodeConfig:
    return NodeConfig(
        key_file=Path("unused"), genesis=Path("unused"), listen="127.0.0.1:0", data_dir=data_dir
    )


def _start(data_dir: Path) -> None:
    store, _ = node_open_store(_config(data_dir), GENESIS)
    store.close()


def _node_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VOTESTORE), "node", "check", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    heights: list[int] = []
    real = Store.block

    def block(self: Store, height: int) -> object:
        heights.append(height)
        return real(self, height)

    monkeypatch.setattr(Store, "block", block)
    yield heights


def test_a_recorded_start_reads_a_bounded_number_of_blocks(db: Path, counted_reads: list[int]) -> None:
    """The node's start on a 300-block store whose check is recorded at its tip reads the record's
    block, the tip, and each spot check's block and parent — not the chain (before: all 300)."""
    _start(db)  # checks the 100 blocks above the record, then records the tip
    counted_reads.clear()
    _start(db)
    assert 0 < len(counted_reads) <= 2 * SPOT_CHECKS + 4, len(counted_reads)


def test_the_start_finds_a_flipped_byte_above_the_record(db: Path) -> None:
    flip_byte(db, block_key(250))
    with pytest.raises(StoreCorrupted) as caught:
        _start(db)
    assert caught.value.height == 250


def test_the_command_finds_an_old_flip_the_start_did_not_read(db: Path, genesis_file: Path) -> None:
    _seeded_start(db)  # records the tip: the next draws are over 1..300
    spots = _seeded_start(db).spots
    assert len(spots) == SPOT_CHECKS and all(1 <= h <= 300 for h in spots)
    damaged = next(h for h in range(2, 200) if h not in spots and h - 1 not in spots and h + 1 not in spots)
    flip_byte(db, block_key(damaged))
    again = _seeded_start(db)  # the same draw: the damaged height is not among those read
    assert not again.full and again.above == () and again.spots == spots

    done = _node_check(str(db), "--genesis", str(genesis_file))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(f"damaged at height {damaged}: chain: "), done.stdout
    assert done.stderr == "error: store damaged: 1 damaged record(s) in 300 blocks\n"


def _seeded_start(db: Path) -> StartCheck:
    store = open_store(db)
    try:
        return store.check_start(rng=random.Random(7))
    finally:
        store.close()


def test_a_record_that_no_longer_matches_its_block_means_a_full_check(db: Path) -> None:
    """The record only saves work: a record whose block id is not the stored block's at its
    height is not trusted to skip anything, so the start checks the whole chain — and finds
    damage anywhere (here at height 3, which no spot check need reach), or, on a sound chain,
    passes and records afresh."""
    flip_byte(db, CHECKED_KEY)
    store = open_store(db)
    try:
        checked = store.check_start(spot_checks=0)
        assert checked.full and checked.above == tuple(range(1, 301))
        assert not store.check_start(spot_checks=0).full  # recorded again
    finally:
        store.close()

    flip_byte(db, CHECKED_KEY)
    flip_byte(db, block_key(3))
    store = open_store(db)
    try:
        with pytest.raises(StoreCorrupted) as caught:
            store.check_start(spot_checks=0)
        assert caught.value.height == 3
    finally:
        store.close()


def test_the_command_passes_a_sound_store_and_records_its_check(
    db: Path, genesis_file: Path, tmp_path: Path, counted_reads: list[int]
) -> None:
    done = _node_check(str(db), "--genesis", str(genesis_file))
    assert (done.returncode, done.stdout, done.stderr) == (0, "store ok: 300 blocks checked\n", "")
    _start(db)  # the 100 blocks above the template's record were checked by the command
    assert 0 < len(counted_reads) <= 2 * SPOT_CHECKS + 4, len(counted_reads)
    config = tmp_path / "node.toml"
    config.write_text(
        f'key_file = "k.json"\ngenesis = "{genesis_file}"\nlisten = "127.0.0.1:0"\ndata_dir = "{db}"\n'
        'peer_listen = "127.0.0.1:1"\ninsecure_plaintext = true\n'
    )
    done = _node_check("--config", str(config))
    assert (done.returncode, done.stdout) == (0, "store ok: 300 blocks checked\n"), done.stderr


def test_the_command_refuses_a_store_in_use(db: Path, genesis_file: Path) -> None:
    held = open_store(db)  # as a running node holds it: LevelDB's lock
    try:
        done = _node_check(str(db), "--genesis", str(genesis_file))
    finally:
        held.close()
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: store {db} is in use by another process"), done.stderr
    assert lines[0].endswith("(held by a running node?)"), done.stderr


def test_the_command_refuses_a_dir_without_a_store(tmp_path: Path, genesis_file: Path) -> None:
    done = _node_check(str(tmp_path / "nothing"), "--genesis", str(genesis_file))
    assert (done.returncode, done.stderr) == (1, f"error: no store in {tmp_path / 'nothing'}\n")
    assert not (tmp_path / "nothing").exists()


def test_the_running_node_moves_the_record_up_so_the_next_start_reads_little(
    db: Path, counted_reads: list[int]
) -> None:
    """After a long run the next start must not check everything since the last start: the
    running node's check-ahead moves the record up to its tip a few blocks at a time."""
    store = open_store(db)
    try:
        assert [store.check_ahead(32) for _ in range(5)] == [32, 32, 32, 4, 0]
    finally:
        store.close()
    counted_reads.clear()
    _start(db)
    assert 0 < len(counted_reads) <= 2 * SPOT_CHECKS + 4, len(counted_reads)


def test_check_ahead_stops_below_damage_and_the_next_start_names_it(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flip_byte(db, block_key(240))
    store = open_store(db)
    try:
        assert store.check_ahead(32) == 32  # 201..232
        caplog.set_level(logging.ERROR)
        asyncio.run(asyncio.wait_for(keep_checking(store, period_s=0.01), timeout=10))
    finally:
        store.close()
    assert "event=store_corrupted height=240" in caplog.text
    with pytest.raises(StoreCorrupted) as caught:
        _start(db)
    assert caught.value.height == 240


CHECKED_WAIT_S = 30.0


def _wait_checked(port: int, height: int, who: str) -> None:
    """Poll the node's votestore_node_store_checked_height until it reaches `height` (bounded)."""
    deadline = time.monotonic() + CHECKED_WAIT_S
    seen = -1.0
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("votestore_node_store_checked_height "):
                    seen = float(line.rsplit(" ", 1)[1])
        if seen >= height:
            return
        time.sleep(0.1)
    raise AssertionError(f"{who}: recorded check at {seen}, not {height}, within {CHECKED_WAIT_S:.0f} s")


def test_real_nodes_move_their_recorded_check_up_as_they_run(tmp_path: Path) -> None:
    """Four real node processes: each one's record follows its tip while it runs (check-ahead),
    so `votestore node check` after a stop finds little left to the next start."""
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        net.start_all()
        net.wait_ready()
        net.wait_height(6)
        for i in range(4):
            _wait_checked(net.metrics_ports[i], 6, f"node {i}")
        net.close()
        for i in range(4):
            db = plyvel.DB(str(net.data_dir(i)))
            try:
                tip = int.from_bytes(db.get(b"k/height"), "big")
                recorded = int.from_bytes(db.get(CHECKED_KEY)[:8], "big")
            finally:
                db.close()
            assert tip >= 6 and 6 <= recorded <= tip, (i, recorded, tip)


def test_the_damage_mark_is_cleared_only_on_request_and_only_on_a_clean_store(
    db: Path, genesis_file: Path
) -> None:
    """A marked store refuses its node's start at once; `votestore node check` says a clean
    marked store is still marked (exit 1) and removes the mark only with --clear-damage, and
    never on a store that does not check clean."""
    from node.ledger.damage import MARKER, mark

    mark(db, StoreCorrupted(250, "block record does not decode"), "at start")
    with pytest.raises(
        StoreCorrupted, match=r"block record does not decode \(found at start\); this store is marked"
    ):
        _start(db)
    kept = _node_check(str(db), "--genesis", str(genesis_file))
    assert kept.returncode == 1 and kept.stdout == "store ok: 300 blocks checked\n", kept.stdout
    assert "is marked damaged" in kept.stderr and "--clear-damage" in kept.stderr, kept.stderr
    assert (db / MARKER).is_file()

    flip_byte(db, block_key(120))
    refused = _node_check(str(db), "--genesis", str(genesis_file), "--clear-damage")
    assert refused.returncode == 1 and refused.stdout.startswith("damaged at height 120: chain: ")
    assert (db / MARKER).is_file()
    flip_byte(db, block_key(120))  # the same bit back: repaired in place

    cleared = _node_check(str(db), "--genesis", str(genesis_file), "--clear-damage")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout == "store ok: 300 blocks checked\ndamage mark removed: the node may start again\n"
    assert not (db / MARKER).exists()
    _start(db)
