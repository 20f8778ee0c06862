"""Fixtures: one clean election chain per test session (the state machine is deterministic given
the transactions, so every test tampers its own copy of the same blocks)."""

from __future__ import annotations

import pytest

from tests.verify import kit


@pytest.fixture(scope="session")
def election() -> kit.Election:
    return kit.clean_election()
