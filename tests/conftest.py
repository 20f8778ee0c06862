"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from votestore.localnet import LocalNet


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalNet]:
    """A running 4-node cluster of real processes; every process is stopped afterwards."""
    net = LocalNet.create(tmp_path / "net")
    try:
        net.start_all()
        net.wait_ready()
        yield net
    finally:
        net.close()
    for log in sorted(net.workdir.glob("node*.log")):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"
