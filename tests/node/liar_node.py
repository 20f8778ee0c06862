"""A hostile validator for tests, never a production flag: it runs the node as built but claims
height 2^63 in every hello and status it sends, and answers GetBlocks with an empty stream.

    python -m tests.node.liar_node CONFIG
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from node import main as node_main
from node.rpc import public
from proto.votestore.v1 import ledger_pb2, peer_pb2

CLAIMED_HEIGHT: Final = 2**63
_status = peer_pb2.PeerStatus
_hello = peer_pb2.Hello


def _lying_status(**fields: Any) -> peer_pb2.PeerStatus:
    return _status(**{**fields, "height": CLAIMED_HEIGHT})


def _lying_hello(**fields: Any) -> peer_pb2.Hello:
    return _hello(**{**fields, "height": CLAIMED_HEIGHT})


async def _no_blocks(
    self: object, request: object, context: object
) -> AsyncIterator[ledger_pb2.CommittedBlock]:
    nothing: tuple[ledger_pb2.CommittedBlock, ...] = ()
    for block in nothing:
        yield block


def lie() -> None:
    """From now on, in this process: every status and hello claims CLAIMED_HEIGHT, and
    GetBlocks serves nothing."""
    peer_pb2.PeerStatus = _lying_status  # type: ignore[assignment,misc]
    peer_pb2.Hello = _lying_hello  # type: ignore[assignment,misc]
    public.NodeService.GetBlocks = _no_blocks  # type: ignore[method-assign]


def main() -> None:
    lie()
    node_main.run_node(Path(sys.argv[1]))


if __name__ == "__main__":
    main()
