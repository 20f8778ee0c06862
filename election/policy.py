"""The chain's rules for elections, fixed in genesis, and the block facts a transaction sees.

Bounds are named constants with their units so every node refuses the same oversize input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from votestore import ids
from votestore.encoding import PUBLIC_KEY_BYTES
from votestore.errors import ConfigError
from votestore.genesis import DEFAULT_MAX_WINDOW_MS, HARD_MAX_WINDOW_MS, Genesis

MAX_ELECTIONS: Final = 1024
MAX_ID_BYTES: Final = ids.MAX_ID_BYTES
"""Election, contest, choice and group ids (the rule: votestore/ids.py)."""
MAX_TITLE_BYTES: Final = 512
MAX_CONTESTS: Final = 16
MAX_CHOICES_PER_CONTEST: Final = 32
MAX_TRUSTEES: Final = 16
MAX_GROUPS: Final = 256
MAX_ROLL_BATCH_ENTRIES: Final = 2000
MIN_COMPLAINT_WINDOW_MS: Final = 1_000
"""A floor on an election's complaint window: at least one block after the last deal, so the
administrator can never open in the block that completes the deals. Real elections choose hours."""


@dataclass(frozen=True, slots=True)
class ChainPolicy:
    """Who may administer elections on this chain, and how long a window may run."""

    chain_id: str
    admin_keys: frozenset[bytes]
    max_window_ms: int = DEFAULT_MAX_WINDOW_MS

    def __post_init__(self) -> None:
        if not self.chain_id:
            raise ConfigError("chain policy needs a chain id")
        if not self.admin_keys:
            raise ConfigError("chain policy needs at least one admin key")
        for key in self.admin_keys:
            if len(key) != PUBLIC_KEY_BYTES:
                raise ConfigError(f"admin key must be {PUBLIC_KEY_BYTES} bytes, got {len(key)}")
        if not 0 < self.max_window_ms <= HARD_MAX_WINDOW_MS:
            raise ConfigError(
                f"max window {self.max_window_ms} ms outside 1..{HARD_MAX_WINDOW_MS} ms (5 days)"
            )

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> ChainPolicy:
        return cls(genesis.chain_id, frozenset(genesis.admins), genesis.max_window_ms)


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What a transaction may know of its block: nothing but its height and agreed time."""

    height: int
    time_ms: int

    def __post_init__(self) -> None:
        assert self.height >= 1, self.height
