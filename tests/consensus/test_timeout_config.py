"""Timeouts must grow with the round (paper: they eventually exceed the message delay after GST)."""

from __future__ import annotations

import pytest

from node.consensus.config import TimeoutConfig, TimeoutKind
from votestore.errors import ConfigError
from votestore.genesis import Timeouts


def test_timeouts_grow_with_the_round() -> None:
    config = TimeoutConfig(propose_ms=300, prevote_ms=100, precommit_ms=100, delta_ms=50)
    assert [config.duration_ms(TimeoutKind.PREVOTE, r) for r in range(3)] == [100, 150, 200]


@pytest.mark.parametrize("name", ["propose_ms", "prevote_ms", "precommit_ms", "delta_ms"])
def test_a_timeout_that_is_zero_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        TimeoutConfig(**{name: 0})
    with pytest.raises(ConfigError, match=f"timeouts.{name} must be a positive number"):
        Timeouts(**{name: 0})
