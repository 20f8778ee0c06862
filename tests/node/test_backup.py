"""`votestore node backup` / `node restore` (issue 22): a restored backup that would double-sign is
refused; with --watch-before-signing it is restored and the node watches before it signs.

The first test runs real validators (four `votestore node run` processes on 127.0.0.1): a backup
at height h, more heights signed, then the restore of that backup. The others use a store made
in-process (tests/node/store_kit.py) for the file's own checks."""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from election.app_hash import genesis_app_hash
from node.config import DEFAULT_AMNESIA_WATCH_HEIGHTS as AMNESIA_WATCH_HEIGHTS
from node.consensus import LastSigned, Step
from node.ledger.store import Store
from node.wire import decode_last_signed, encode_last_signed
from ops.cluster import LocalNet
from ops.store_backup import RECORDS, read_manifest
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from tests.node.store_kit import GENESIS, grow, open_store
from votestore.genesis import Genesis

VOTESTORE = Path(sys.executable).parent / "votestore"
WATCH_TIMEOUT_S = 90.0
SIGNED_TIMEOUT_S = 60.0


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VOTESTORE), "node", *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def _signed(data_dir: Path, genesis: Genesis) -> tuple[int, LastSigned | None, bool]:
    store = Store(data_dir, genesis, genesis_app_hash(genesis.chain_id))
    try:
        raw = store.last_signed()
        record = None if raw is None else decode_last_signed(raw, store.height)
        return store.height, record, store.watch_before_signing()
    finally:
        store.close()


def _wait_for(path: Path, pattern: str, timeout_s: float) -> re.Match[str] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text(errors="replace"))
        if found:
            return found
        time.sleep(0.25)
    return None


def _signed_block(net: LocalNet, validator: int, above: int, timeout_s: float) -> int | None:
    """The first height above `above` whose certificate, as validator 1 serves it, carries
    `validator`'s signature: proof that it signed again. Heights alone prove nothing: a
    restarted node reaches them by catch-up, signing nothing."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = net.status(1)
        if status is not None and status.height > above:
            request = node_pb2.GetBlocksRequest(from_height=above + 1, to_height=status.height)
            with net.connect(net.addresses[1]) as channel:
                for committed in node_pb2_grpc.NodeStub(channel).GetBlocks(request, timeout=30):
                    if validator in {s.validator for s in committed.certificate.signatures}:
                        return int(committed.block.header.height)
            above = status.height
        time.sleep(0.25)
    return None


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_restored_backup_that_would_double_sign_is_refused(tmp_path: Path) -> None:
    """Backup of validator 0 at height h; it signs more heights; the restore of the old backup is
    refused with one line (it would double-sign) and leaves the data dir as it was. With
    --watch-before-signing it is restored and marked: the node starts watching, signs nothing in
    the blocks committed meanwhile, and signs again only after its watch (event=signing).
    On main before this change there was no `node backup` command (usage error, exit 2)."""
    with LocalNet.create(tmp_path / "net") as net:
        config, data = net.config_path(0), net.data_dir(0)
        net.start_all()
        net.wait_ready()
        net.wait_height(3)
        net.stop(0)
        backup = tmp_path / "node0.backup"
        made = _cli("backup", "--config", config, "--out", backup)
        assert made.returncode == 0, made.stderr
        manifest = read_manifest(backup)
        assert manifest.chain_id == net.genesis.chain_id and manifest.height >= 3
        assert manifest.last_signed is not None, "validator 0 signed before the backup"
        assert manifest.last_signed.height >= manifest.height

        net.start(0)
        net.wait_ready(nodes=[0])
        # Signing again, seen in a certificate (a restarted node first catches up by fetching
        # blocks, which signs nothing; how many heights that takes depends on the machine's load):
        signed_at = _signed_block(net, 0, manifest.height, SIGNED_TIMEOUT_S)
        assert signed_at is not None, net.log_tail(0)
        net.stop(0)
        height, newer, _ = _signed(data, net.genesis)
        assert newer is not None and newer.height > manifest.last_signed.height

        line = _one_error_line(_cli("restore", backup, "--config", config))
        assert "double sign" in line and "older" in line, line
        assert _signed(data, net.genesis)[:2] == (height, newer), "a refused restore changed the store"

        restored = _cli("restore", backup, "--config", config, "--watch-before-signing")
        assert restored.returncode == 0, restored.stderr
        height, record, marked = _signed(data, net.genesis)
        assert (height, marked) == (manifest.height, True)
        assert record is not None
        assert (record.height, record.round, int(record.step)) == manifest.last_signed.key()

        # Its own signatures within its watch window of the tip look like a twin's to the guard
        # (node/amnesia.py), which then refuses: the chain moves past them before it comes back.
        net.wait_height(newer.height + AMNESIA_WATCH_HEIGHTS + 2, nodes=[1, 2, 3])
        log = net.workdir / "node0.log"
        log.write_text("")  # this life's lines only
        net.start(0)
        watching = _wait_for(log, r"event=watching_before_signing validator=0 state=watching", 30.0)
        assert watching, net.log_tail(0)
        signing = _wait_for(log, r"event=signing height=(\d+)", WATCH_TIMEOUT_S)
        assert signing, net.log_tail(0)
        signing_height = int(signing.group(1))
        assert "event=own_signature_seen" not in log.read_text()
        # event=signing may come while it still catches up: wait for a signature, not heights.
        assert _signed_block(net, 0, signing_height - 1, SIGNED_TIMEOUT_S) is not None, net.log_tail(0)
        net.close()
    peer = Store(net.data_dir(1), net.genesis, genesis_app_hash(net.genesis.chain_id))
    try:
        watched = range(newer.height + 1, signing_height)
        signers = {h: {s.validator for s in peer.certificate(h).signatures} for h in watched}
    finally:
        peer.close()
    assert all(0 not in who for who in signers.values()), signers
    height, record, marked = _signed(data, net.genesis)
    assert not marked, "the mark is cleared once the node signs"
    assert record is not None and record.height >= signing_height


def test_a_running_validator_backs_up_on_request_and_the_copy_restores_clean(tmp_path: Path) -> None:
    """Validator 0 runs with `backup_dir`; SIGUSR1 while the chain commits (a block every 0.5 s)
    makes it write a backup without stopping. The file's height and last-signed record come
    from one snapshot; the node goes on committing and signing; the backup restored into its own
    data dir is refused (it signed past the backup's record: a double sign), into a new data dir
    only with --watch-before-signing, and `node check` finds the restored store clean. A node
    without `backup_dir` refuses the signal with a log line and runs on.
    Before this change a running node's store could not be backed up at all (`node backup`
    refuses a store in use); on old main this test's node refuses its config (unknown key
    backup_dir)."""
    backups = tmp_path / "backups"
    with LocalNet.create(tmp_path / "net") as net:
        config, data = net.config_path(0), net.data_dir(0)
        with config.open("a") as handle:
            handle.write(f'backup_dir = "{backups}"\n')
        net.start_all()
        net.wait_ready()
        net.wait_height(3)
        # A node without backup_dir refuses the request and runs on (SIGUSR1 would end it if
        # it were not handled).
        net.processes[1].send_signal(signal.SIGUSR1)
        refused = _wait_for(net.workdir / "node1.log", r"event=backup_refused why=no_backup_dir", 30.0)
        assert refused, net.log_tail(1)
        assert net.processes[1].poll() is None, "node 1 runs on"
        log = net.workdir / "node0.log"
        net.processes[0].send_signal(signal.SIGUSR1)
        written = _wait_for(log, r"event=backup_written file=(\S+) height=(\d+)", 60.0)
        assert written, net.log_tail(0)
        backup = Path(written.group(1))
        assert backup.parent == backups and backup.exists(), list(backups.iterdir())
        assert [p.name for p in backups.iterdir()] == [backup.name], "no partial file left"
        manifest = read_manifest(backup)
        assert manifest.height == int(written.group(2)) >= 3
        assert manifest.last_signed is not None and manifest.last_signed.height >= manifest.height
        assert net.processes[0].poll() is None, "the node runs on"
        # It commits and signs on after the backup.
        assert _signed_block(net, 0, manifest.last_signed.height, SIGNED_TIMEOUT_S) is not None, net.log_tail(
            0
        )
        net.stop(0)
        _, own, _ = _signed(data, net.genesis)
        assert own is not None and own.height > manifest.last_signed.height

    line = _one_error_line(_cli("restore", backup, "--config", config))
    assert "double sign" in line and "older" in line, line
    fresh = tmp_path / "fresh.data"
    refused = _one_error_line(_cli("restore", backup, "--data-dir", fresh, "--genesis", net.genesis_path))
    assert "--watch-before-signing" in refused, refused
    restored = _cli(
        "restore", backup, "--data-dir", fresh, "--genesis", net.genesis_path, "--watch-before-signing"
    )
    assert restored.returncode == 0, restored.stderr
    checked = _cli("check", fresh, "--genesis", net.genesis_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("store ok:"), checked.stdout
    height, record, marked = _signed(fresh, net.genesis)
    assert (height, marked) == (manifest.height, True)
    assert (
        record is not None and (record.height, record.round, int(record.step)) == manifest.last_signed.key()
    )


# ---------------------------------------------------------------- the file's own checks


def _record(height: int, round_: int = 0, step: Step = Step.PRECOMMIT) -> bytes:
    return encode_last_signed(LastSigned(height=height, round=round_, step=step, block_id=None))


@pytest.fixture
def genesis_file(tmp_path: Path) -> Path:
    path = tmp_path / "genesis.json"
    path.write_text(GENESIS.to_json())
    return path


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    path = tmp_path / "node.data"
    store = open_store(path)
    try:
        grow(store, 12)
        store.save_last_signed(_record(13, 1, Step.PREVOTE))
    finally:
        store.close()
    return path


def _backup(node_dir: Path, genesis_file: Path, out: Path) -> None:
    done = _cli("backup", "--data-dir", node_dir, "--genesis", genesis_file, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "height 12" in done.stdout and "height 13 round 1 step 1" in done.stdout, done.stdout


def test_a_backup_not_older_is_restored_and_the_old_dir_kept(
    node_dir: Path, genesis_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.tar"
    _backup(node_dir, genesis_file, out)
    again = _cli("backup", "--data-dir", node_dir, "--genesis", genesis_file, "--out", out)
    assert "exists" in _one_error_line(again), "never over another file"
    done = _cli("restore", out, "--data-dir", node_dir, "--genesis", genesis_file, "--json")
    assert done.returncode == 0, done.stderr
    assert '"watch_before_signing": false' in done.stdout
    assert _signed(node_dir, GENESIS) == (12, decode_last_signed(_record(13, 1, Step.PREVOTE), 12), False)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("node.data.replaced-")]
    assert len(kept) == 1 and (kept[0] / "CURRENT").is_file()


def test_an_empty_data_dir_needs_the_flag(node_dir: Path, genesis_file: Path, tmp_path: Path) -> None:
    """A new machine: nothing there shows the backup's record is the validator's latest."""
    out = tmp_path / "b.tar"
    _backup(node_dir, genesis_file, out)
    fresh = tmp_path / "fresh.data"
    line = _one_error_line(_cli("restore", out, "--data-dir", fresh, "--genesis", genesis_file))
    assert "holds no store" in line and "--watch-before-signing" in line
    assert not fresh.exists()
    done = _cli("restore", out, "--data-dir", fresh, "--genesis", genesis_file, "--watch-before-signing")
    assert done.returncode == 0, done.stderr
    assert _signed(fresh, GENESIS)[0::2] == (12, True)


def test_a_newer_record_in_the_data_dir_refuses_even_a_later_round(
    node_dir: Path, genesis_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.tar"
    _backup(node_dir, genesis_file, out)
    store = open_store(node_dir)
    try:
        store.save_last_signed(_record(13, 1, Step.PRECOMMIT))  # one step further, same height
    finally:
        store.close()
    line = _one_error_line(_cli("restore", out, "--data-dir", node_dir, "--genesis", genesis_file))
    assert "height 13 round 1 step 1" in line and "height 13 round 1 step 2" in line, line


def test_a_damaged_or_foreign_backup_is_refused(node_dir: Path, genesis_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.tar"
    _backup(node_dir, genesis_file, out)
    raw = bytearray(out.read_bytes())
    with tarfile.open(out) as tar:
        member = tar.getmember(RECORDS)
    raw[member.offset_data + member.size // 2] ^= 0x01
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(raw))
    line = _one_error_line(_cli("restore", damaged, "--data-dir", node_dir, "--genesis", genesis_file))
    assert "sha256" in line or "damaged" in line, line
    assert not (tmp_path / "node.data.restoring").exists(), "the half-written store is removed"
    assert _signed(node_dir, GENESIS)[0] == 12

    other = tmp_path / "other.json"
    other.write_text(dataclasses.replace(GENESIS, chain_id="another-chain").to_json())
    line = _one_error_line(_cli("restore", out, "--data-dir", tmp_path / "x", "--genesis", other))
    assert "not of this genesis" in line, line

    not_tar = tmp_path / "not.tar"
    not_tar.write_text("hello")
    assert "cannot read backup" in _one_error_line(
        _cli("restore", not_tar, "--data-dir", node_dir, "--genesis", genesis_file)
    )
