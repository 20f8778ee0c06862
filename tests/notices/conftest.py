from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notices.store import NoticeStore
from votestore.crypto.sealing import INTERACTIVE

PASSPHRASE = "test passphrase for the notice store"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NoticeStore]:
    opened = NoticeStore.open(tmp_path / "notices.db", PASSPHRASE, create=True, limits=INTERACTIVE)
    yield opened
    opened.close()
