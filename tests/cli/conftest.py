"""One real 4-node cluster shared by this directory's cluster tests (each uses its own elections),
so the suite pays for one start; logs are checked for tracebacks at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from votestore.localnet import LocalNet


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNet]:
    local = LocalNet.create(tmp_path_factory.mktemp("net"))
    try:
        local.start_all()
        local.wait_ready()
        yield local
    finally:
        local.close()
    for log in sorted(local.workdir.glob("node*.log")):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"
