"""A twin — a second process with validator 1's key, its own data dir and port — dials the other
validators while the real validator 1's streams are live: each refuses the twin's stream as
`duplicate_validator`, counts it and logs it (issue 21); the chain keeps committing.

Real processes on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ops.cluster import LocalNet
from tests.node.builds import twin_config as twin_config_for

pytestmark = pytest.mark.cluster

WAIT_S = 60.0
TWIN = 1


def _refused_as_duplicate(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(
        r'votestore_node_peer_handshakes_refused_total\{reason="duplicate_validator"\} (\S+)', text
    )
    return 0.0 if found is None else float(found.group(1))


def test_a_twin_s_stream_is_refused_and_logged_while_the_real_one_is_live(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        net.start_all()
        net.wait_height(2)
        twin_config = twin_config_for(net, TWIN)
        log = (net.workdir / "twin.log").open("w")
        twin = subprocess.Popen(
            [sys.executable, "-m", "votestore", "node", "run", "--config", str(twin_config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + WAIT_S
            while not all(_refused_as_duplicate(net.metrics_ports[i]) > 0 for i in (0, 2, 3)):
                assert twin.poll() is None, (net.workdir / "twin.log").read_text()
                assert time.monotonic() < deadline, "not every validator refused the twin's stream"
                time.sleep(0.2)
            start = net.status(0)
            assert start is not None
            net.wait_height(start.height + 3)
        finally:
            twin.kill()
            twin.wait()
            log.close()
        for i in (0, 2, 3):
            lines = net.log_tail(i, 2000)
            assert f"event=peer_twin validator={TWIN}" in lines, lines
            assert net.processes[i].poll() is None
