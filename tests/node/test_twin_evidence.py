"""A twin's double vote ends up as committed evidence the verifier names (issue 21).

Real processes on loopback: four validators; validator 1 is stopped and its store copied; a
twin (tests/node/twin_node.py: validator 1's key, the copied store — so it has a last-signed
record and signs at once, past the amnesia guard —, another port) joins and sends a nil
precommit for the last height whose certificate holds the genuine process's precommit: a height
every peer passed. Before node/evidence.py the peers dropped such a vote unseen (`old_height`):
no evidence, nothing committed, the verifier clean. Now each honest validator finds it (the
genuine precommit it saw, or its stored certificate's), keeps and gossips it, a proposer
commits it, and `votestore verify` exits 1 naming validator, height and round. Then the genuine
validator 1 is back; the twin, started again, is refused as `duplicate_validator` by every peer
while the genuine stream is live."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from ops.cluster import LocalNet
from ops.cluster import process as cluster_process
from tests.node.builds import spawn_build, twin_config

pytestmark = pytest.mark.cluster

TWIN: Final = 1
HONEST: Final = (0, 2, 3)
WAIT_S: Final = 90.0
VERIFY_TIMEOUT_S: Final = 120.0


def _counter(port: int, name: str, reason: str | None = None) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    labels = "" if reason is None else rf'\{{reason="{reason}"\}}'
    found = re.search(rf"^{name}{labels} (\S+)$", text, re.MULTILINE)
    return 0.0 if found is None else float(found.group(1))


def _wait(done: Callable[[], bool], what: str, alive: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert alive is None or alive.poll() is None, f"the twin exited:\n{log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"{what} not within {WAIT_S:.0f} s"
        time.sleep(0.2)


def _twin_vote(log: Path) -> tuple[int, int]:
    found = re.search(
        r"twin_double_vote validator=(\d+) height=(\d+) round=(\d+)", log.read_text(errors="replace")
    )
    assert found is not None and int(found.group(1)) == TWIN, log.read_text(errors="replace")
    return int(found.group(2)), int(found.group(3))


def test_a_twin_s_double_vote_is_committed_and_named_by_the_verifier(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        net.start_all()
        net.wait_height(4)
        net.stop(TWIN)
        shutil.copytree(net.data_dir(TWIN), net.workdir / "twin.data")
        config, log = twin_config(net, TWIN), net.workdir / "twin.log"

        twin = spawn_build("tests.node.twin_node", config, log)
        try:
            _wait(lambda: "twin_double_vote" in log.read_text(errors="replace"), "the twin's vote", twin, log)
            height, round_ = _twin_vote(log)
            _wait(
                lambda: all(
                    _counter(net.metrics_ports[i], "votestore_node_evidence_committed_total") >= 1
                    for i in HONEST
                ),
                "evidence committed on every honest validator",
                twin,
                log,
            )
        finally:
            cluster_process.stop(twin)
        tip = net.status(0)
        assert tip is not None
        assert all(net.status(i) is not None and net.status(i).height > height for i in HONEST)  # type: ignore[union-attr]

        net.start(TWIN)  # the genuine validator 1, back on its own store
        net.wait_height(tip.height + 2, nodes=[TWIN, *HONEST])
        twin = spawn_build("tests.node.twin_node", config, log)
        try:
            _wait(
                lambda: all(
                    _counter(
                        net.metrics_ports[i],
                        "votestore_node_peer_handshakes_refused_total",
                        "duplicate_validator",
                    )
                    > 0
                    for i in HONEST
                ),
                "every honest validator refusing the twin's second stream",
                twin,
                log,
            )
        finally:
            cluster_process.stop(twin)

        verified = subprocess.run(
            [
                *(sys.executable, "-m", "votestore", "verify", "--genesis", str(net.genesis_path)),
                "--insecure-plaintext",
            ],
            capture_output=True,
            text=True,
            timeout=VERIFY_TIMEOUT_S,
            check=False,
        )
        for i in HONEST:
            lines = net.log_tail(i, 5000)
            assert f"event=evidence validator={TWIN} name=site-{TWIN} height={height}" in lines, lines
            assert f"event=peer_twin validator={TWIN}" in lines
            assert "Traceback" not in lines
            assert net.processes[i].poll() is None
    report = verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"chain {net.genesis.chain_id}: agreed and replayed"), report
    assert verified.returncode == 1, report  # a discrepancy
    findings = [line.strip() for line in verified.stdout.splitlines() if line.startswith("  ")]
    named = f"validator {TWIN} (site-{TWIN}) signed two precommits at height {height} round {round_}: "
    assert any(
        f.startswith(f"double_vote: all nodes height {height} evidence in block ") and named in f
        for f in findings
    ), report
    assert all(f.startswith("double_vote: ") for f in findings), report
    print("\n".join(findings))
    assert re.search(r"^double_vote +FAIL", verified.stdout, re.MULTILINE), report
