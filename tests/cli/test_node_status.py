"""`votestore node status`, as an operator runs it against real validator processes: through the
node's own config (TLS) and through --node (plaintext loopback, --json); a peer that goes away
shows as not connected; a node that does not answer is one error line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ops.cluster import LocalNet

pytestmark = pytest.mark.cluster

VOTESTORE = str(Path(sys.executable).parent / "votestore")
WAIT_S = 60.0


def _status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOTESTORE, "node", "status", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _json(net: LocalNet, i: int) -> dict[str, Any]:
    result = _status(
        "--node", net.addresses[i], "--genesis", str(net.genesis_path), "--insecure-plaintext", "--json"
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _until(net: LocalNet, i: int, wanted: Any, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        document = _json(net, i)
        if wanted(document):
            return document
        assert time.monotonic() < deadline, f"node {i} status never showed {what}: {document}"
        time.sleep(0.2)


def test_status_over_tls_through_the_node_config(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", tls=True) as net:
        net.start_all()
        net.wait_height(2)
        result = _status("--config", str(net.config_path(1)))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("validator 1 of chain votestore-local"), result.stdout
        assert "peers     3 of 3 connected" in result.stdout, result.stdout
        assert "protocol" in result.stdout and "catching up: no" in result.stdout


def test_status_json_names_each_peer_and_a_dead_node_is_one_line(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_height(2)
        document = _until(net, 0, lambda d: d["peers_connected"] == 3, "3 peers connected")
        assert _until(net, 0, lambda d: d["signing"] == "signing", "signing")["signing"] == "signing"
        assert document["validator"] == 0 and document["height"] >= 2
        assert [p["validator"] for p in document["peers"]] == [1, 2, 3]
        assert all(p["connected"] and p["height"] >= 1 for p in document["peers"]), document
        net.kill(3)
        after = _until(net, 0, lambda d: not d["peers"][2]["connected"], "validator 3 gone")
        assert after["peers_connected"] == 2
        dead = _status("--node", net.addresses[3], "--genesis", str(net.genesis_path), "--insecure-plaintext")
        assert dead.returncode == 1
        assert dead.stderr.startswith(f"error: validator at {net.addresses[3]} did not answer (UNAVAILABLE)")
        assert dead.stderr.count("\n") == 1, dead.stderr
