"""Start a validator of a LocalNet from another build: a test module that patches the node and
runs it (tests/node/liar_node.py, tests/node/hostile_node.py, tests/node/twin_node.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops.cluster import LocalNet, free_port

ROOT = Path(__file__).resolve().parents[2]


def spawn_build(module: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`python -m module CONFIG` in a session of its own, logging to `log`; the caller stops it."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module, str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )


def twin_config(net: LocalNet, index: int) -> Path:
    """A config for a second process of validator `index`: its key, data dir `twin.data`,
    other ports, no metrics endpoint (twin.toml in the net's directory)."""
    text = net.config_path(index).read_text()
    path = net.workdir / "twin.toml"
    path.write_text(
        text.replace(f'listen = "{net.addresses[index]}"', f'listen = "127.0.0.1:{free_port()}"')
        .replace(f'peer_listen = "{net.peer_addresses[index]}"', f'peer_listen = "127.0.0.1:{free_port()}"')
        .replace(f'data_dir = "node{index}.data"', 'data_dir = "twin.data"')
        .replace(f"metrics_port = {net.metrics_ports[index]}", "metrics_port = 0")
    )
    return path


def start_build(net: LocalNet, index: int, module: str) -> None:
    """Run validator `index` as `python -m module CONFIG`, logging where net.start would; the
    net stops it with the others."""
    net.processes[index] = spawn_build(module, net.config_path(index), net.workdir / f"node{index}.log")
