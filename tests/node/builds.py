"""Start a validator of a LocalNet from another build: a test module that patches the node and
runs it (tests/node/liar_node.py, tests/node/hostile_node.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops.cluster import LocalNet

ROOT = Path(__file__).resolve().parents[2]


def start_build(net: LocalNet, index: int, module: str) -> None:
    """Run validator `index` as `python -m module CONFIG`, logging where net.start would; the
    net stops it with the others."""
    with open(net.workdir / f"node{index}.log", "ab") as log:
        net.processes[index] = subprocess.Popen(
            [sys.executable, "-m", module, str(net.config_path(index))],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )
