"""A damaged state record in a real validator's store (issue 21): the node stops once at the first
read — serving or executing a block — naming the record and the height, marks its store, and
every later start refuses at once with the same message (never a crash loop); the offline check
names the record, and the verifier judges the marked store through `ledger export --data-dir`.

Before: the start passed (`store_ok`), then the next block or read failed with an error naming
neither record nor height, at every restart. Real processes and a real LevelDB, edited while its
node is stopped."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import plyvel
import pytest

from election import state_keys
from node.ledger.damage import MARKER
from ops.cluster import LocalNet
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from tests.cluster import RPC_TIMEOUT_S, election_definition, roll_load, submit, wait_committed
from votestore import txbuild
from votestore.encoding import tx_hash

pytestmark = pytest.mark.cluster

EXIT_WAIT_S = 60.0
REFUSE_WAIT_S = 30.0
VOTESTORE = Path(sys.executable).parent / "votestore"


def _election_with_roll(net: LocalNet, election_id: str) -> int:
    """Create `election_id` with two roll batches; the height its record was last written."""
    chain_id = net.genesis.chain_id
    raws = [txbuild.election_create(chain_id, net.admin_key, election_definition(election_id))]
    raws += roll_load(chain_id, election_id, batches=2)
    for raw in raws:
        submit(net.addresses[1], raw)
        wait_committed(net.addresses[1], tx_hash(raw))
    return int(wait_committed(net.addresses[1], tx_hash(raws[-1])).header.height)


def _flip_election_record(net: LocalNet, i: int, election_id: str) -> int:
    """Flip a byte of the election record in stopped node i's store; the height it names."""
    key = b"a/" + state_keys.election(election_id)
    db = plyvel.DB(str(net.data_dir(i)))
    try:
        value = bytearray(db.get(key))
        value[len(value) // 2] ^= 0x01
        db.put(key, bytes(value), sync=True)
    finally:
        db.close()
    return int.from_bytes(value[:8], "big")


def _exit_code(net: LocalNet, i: int, within_s: float) -> int:
    process = net.processes[i]
    deadline = time.monotonic() + within_s
    while process.poll() is None:
        assert time.monotonic() < deadline, f"node {i} went on running on a damaged store"
        time.sleep(0.1)
    return process.returncode


def _votestore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VOTESTORE), *args], capture_output=True, text=True, timeout=120, check=False)


def _last_line(net: LocalNet, i: int) -> str:
    log = net.log_tail(i, 80)
    assert "Traceback" not in log, log
    return log.strip().splitlines()[-1]


def _refuses_again_at_once(net: LocalNet, i: int, first: str) -> None:
    """A second start exits at once with the same message: no check, no serving, no loop."""
    began = time.monotonic()
    net.start(i)
    assert _exit_code(net, i, REFUSE_WAIT_S) == 1
    assert _last_line(net, i) == first
    assert time.monotonic() - began < REFUSE_WAIT_S


@contextlib.contextmanager
def _damaged_node(tmp_path: Path, election_id: str) -> Iterator[tuple[LocalNet, int]]:
    """A running 4-node cluster whose node 0 was stopped, had a byte of `election_id`'s record
    flipped, and was started again (its start check passes: it reads no state record); the
    height the record names."""
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_ready()
        _election_with_roll(net, election_id)
        assert net.stop(0) == 0
        height = _flip_election_record(net, 0, election_id)
        net.start(0)
        net.wait_ready([0])
        yield net, height


def test_a_damaged_record_read_while_serving_stops_once_and_marks_the_store(tmp_path: Path) -> None:
    election_id = "dmg-serve"
    with _damaged_node(tmp_path, election_id) as (net, height):
        with grpc.insecure_channel(net.addresses[0]) as channel, pytest.raises(grpc.RpcError) as refused:
            node_pb2_grpc.NodeStub(channel).GetElection(
                node_pb2.GetElectionRequest(election_id=election_id), timeout=RPC_TIMEOUT_S
            )
        assert refused.value.code() == grpc.StatusCode.DATA_LOSS  # type: ignore[attr-defined]
        record = f"state record election record (election '{election_id}')"
        assert f"store corrupted at height {height}: {record}" in refused.value.details()  # type: ignore[attr-defined]
        assert _exit_code(net, 0, EXIT_WAIT_S) == 1
        first = _last_line(net, 0)
        assert first.startswith(f"error: store corrupted at height {height}: {record}"), first
        assert "(found while serving); this store is marked damaged" in first, first
        assert (net.data_dir(0) / MARKER).is_file()
        _refuses_again_at_once(net, 0, first)

        genesis = str(net.genesis_path)
        checked = _votestore("node", "check", str(net.data_dir(0)), "--genesis", genesis)
        assert checked.returncode == 1
        assert f"damaged at height {height}: state: {record}" in checked.stdout, checked.stdout
        assert (net.data_dir(0) / MARKER).is_file()  # the check clears nothing by itself

        out = tmp_path / "site-0.ledger"
        data_dir = str(net.data_dir(0))
        exported = _votestore(
            "ledger",
            "export",
            "--genesis",
            genesis,
            "--data-dir",
            data_dir,
            "--name",
            "site-0",
            "--out",
            str(out),
        )
        assert exported.returncode == 0, exported.stderr
        report = out.with_suffix(".report.json")
        verified = _votestore("verify", "--genesis", genesis, "--ledger", str(out), "--json", str(report))
        assert verified.returncode == 1, verified.stdout
        findings = json.loads(report.read_text())["findings"]
        assert any(f["nodes"] == ["site-0"] and f"election {election_id}" in f["record"] for f in findings), (
            findings
        )
        assert any(f["nodes"] == ["site-0"] and record in f["record"] for f in findings), findings


def test_a_damaged_record_read_executing_a_block_stops_once_and_marks_the_store(tmp_path: Path) -> None:
    election_id = "dmg-exec"
    with _damaged_node(tmp_path, election_id) as (net, height):
        more = roll_load(net.genesis.chain_id, election_id, batches=3)[2]  # batch 2, the next one
        submit(net.addresses[1], more)
        wait_committed(net.addresses[1], tx_hash(more))
        assert _exit_code(net, 0, EXIT_WAIT_S) == 1
        first = _last_line(net, 0)
        record = f"state record election record (election '{election_id}')"
        assert first.startswith(f"error: store corrupted at height {height}: {record}"), first
        assert "; this store is marked damaged" in first, first
        _refuses_again_at_once(net, 0, first)


def test_a_damaged_last_signed_record_stops_the_start_once_and_marks_the_store(tmp_path: Path) -> None:
    """The consensus last-signed record is read as the node wires its parts, after the store
    check: damage there stops the start with its name and marks the store, like any other."""
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_ready()
        net.wait_height(3)
        assert net.stop(0) == 0
        db = plyvel.DB(str(net.data_dir(0)))
        try:
            raw = bytearray(db.get(b"k/last_signed"))
            raw[0] ^= 0xFF
            db.put(b"k/last_signed", bytes(raw), sync=True)
        finally:
            db.close()
        net.start(0)
        assert _exit_code(net, 0, EXIT_WAIT_S) == 1
        first = _last_line(net, 0)
        assert first.startswith("error: store corrupted at height "), first
        assert "last-signed record does not decode (found at start); this store is marked damaged" in first
        _refuses_again_at_once(net, 0, first)
