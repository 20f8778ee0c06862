"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.cluster import LocalNet
from tests.cluster import running_cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalNet]:
    """A running 4-node cluster of real processes; every process is stopped afterwards."""
    with running_cluster(tmp_path / "net") as net:
        yield net


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="write the actual output back into data-driven test files (tests/consensus/testdata)",
    )
