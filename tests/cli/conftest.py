"""One real 4-node cluster shared by this directory's cluster tests (each uses its own elections),
so the suite pays for one start; logs are checked for tracebacks at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.cluster import LocalNet
from tests.cluster import running_cluster


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNet]:
    with running_cluster(tmp_path_factory.mktemp("net")) as local:
        yield local
