"""What the verifier knows of one node apart from its blocks: reachability, height, and the
election states it serves (its 'published' view), read at one known height."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from proto.votestore.v1 import election_pb2


class Reach(StrEnum):
    UP = "up"
    DOWN = "down"
    """Unreachable or failing mid-read: reported as such, never as fraud."""
    WRONG_CHAIN = "wrong_chain"
    """Serves another chain id or genesis: its blocks are not compared."""


@dataclass(frozen=True, slots=True)
class Published:
    """The election states a node served, all read at one committed height."""

    height: int
    elections: tuple[election_pb2.ElectionState, ...]
    records: tuple[tuple[bytes, bytes], ...] | None = None
    """Every application-state record (key, value) at `height`, where the source holds them (a
    stopped node's store, `ledger export --data-dir`); None from a live node's API."""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    address: str
    reach: Reach
    height: int
    """The height the node reports having committed (0 when down)."""
    published: Published | None = None
    """None when the node's state could not be read at one stable height."""
    detail: str = ""
