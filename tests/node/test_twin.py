"""No twin: a second validator process on a running one's port or data dir stops with one line.

Real processes on loopback. Before SO_REUSEPORT was turned off, a second validator-0 with a fresh
data dir bound the running validator's port and served beside it (issue 19, attack 5).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops.cluster import LocalNet

VOTESTORE = [sys.executable, "-m", "votestore"]
TWIN_EXIT_TIMEOUT_S = 30.0


def _run_twin(config: Path) -> subprocess.CompletedProcess[str]:
    """Run a second node process; one that is still running after the timeout served as a twin."""
    process = subprocess.Popen(
        [*VOTESTORE, "node", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=TWIN_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(
            f"the twin ran for {TWIN_EXIT_TIMEOUT_S} s beside the real node:\n{err}"
        ) from None
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _twin_config(net: LocalNet, name: str, replace: tuple[str, str]) -> Path:
    text = net.config_path(0).read_text()
    assert replace[0] in text
    path = net.workdir / name
    path.write_text(text.replace(*replace))
    return path


def _assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, result.stderr


def test_twin_with_fresh_data_dir_cannot_take_the_port(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start(0)
        net.wait_ready([0])
        twin = _twin_config(net, "twin.toml", ('data_dir = "node0.data"', 'data_dir = "twin.data"'))
        result = _run_twin(twin)
        _assert_one_line(result, f"cannot listen on {net.addresses[0]}")
        assert net.processes[0].poll() is None  # the real node is untouched


def test_second_process_on_a_data_dir_is_refused(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start(0)
        net.wait_ready([0])
        other = net.addresses[1]  # a free port: only the data dir is shared
        twin = _twin_config(net, "twin.toml", (f'listen = "{net.addresses[0]}"', f'listen = "{other}"'))
        result = _run_twin(twin)
        _assert_one_line(result, "is in use by another process")
        assert net.processes[0].poll() is None
