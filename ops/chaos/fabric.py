"""The network the chaos cluster runs on: where each node listens, how it is started, and how links
between endpoints are cut and healed.

Endpoints are validator indexes and HOST, the side the gateway, the load and the checks run on. A
cut link carries nothing in either direction until it is healed.
"""

from __future__ import annotations

from typing import Final, Protocol

HOST: Final = -1
"""The endpoint of everything that is not a validator: gateway, ballot load, monitor, verifier."""


class Fabric(Protocol):
    mode: str
    """'netns' or 'loopback-proxy': reported with every run, so a reader knows what was exercised."""

    def listen(self, node: int) -> str:
        """host:port the node's peer port binds (`peer_listen`)."""
        ...

    def api_listen(self, node: int) -> str:
        """host:port the node's public Node API binds (`listen`)."""
        ...

    def address(self, node: int) -> str:
        """host:port written in genesis as `api_address`: what HOST dials to reach the node."""
        ...

    def peer_address(self, node: int) -> str:
        """host:port written in genesis as `address`: what peers dial absent an override."""
        ...

    def peers(self, node: int) -> dict[int, str]:
        """Overrides of genesis addresses in the node's own config (by validator index)."""
        ...

    def command_prefix(self, node: int) -> list[str]:
        """Prepended to the node's command line (e.g. entering its namespace)."""
        ...

    def cut(self, a: int, b: int) -> None: ...

    def heal(self, a: int, b: int) -> None: ...

    def close(self) -> None:
        """Remove everything the fabric made; safe to call twice and after a failed setup."""
        ...


def links_between(side: frozenset[int], endpoints: frozenset[int]) -> list[tuple[int, int]]:
    """Every link crossing from `side` to the rest of `endpoints`, each once, in a fixed order."""
    assert side <= endpoints and side, (side, endpoints)
    return [(a, b) for a in sorted(side) for b in sorted(endpoints - side)]
