"""A hostile validator for tests, never a production flag: it runs the node as built, plus
issue 19's attacks by a validator with a real key —

- relay: every proposal another validator sends it goes on to all its peers again, with the
  proposer's signature and a junk payload;
- lie: it claims height 2^63 in every hello and status, and answers GetBlocks with nothing
  (as tests/node/liar_node.py);
- flood: every FLOOD_EVERY_HEIGHTS heights it signs and sends every peer more votes for the next
  height than the core's whole next-height buffer holds, over every round the core accepts.

    python -m tests.node.hostile_node CONFIG
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Final

from node import main as node_main
from node.config import load_node_config
from node.consensus import (
    MAX_ROUNDS_AHEAD,
    Proposal,
    Vote,
    VoteType,
    signing_bytes,
)
from node.peers import Peers, to_wire
from node.shell import NodeShell
from proto.votestore.v1 import peer_pb2
from tests.node import liar_node
from votestore.genesis import load_genesis
from votestore.keys import PLAINTEXT_QUIETLY, read_key_file

FLOOD_VOTES: Final = 4096 + 64
"""More next-height votes than the core's old shared buffer held (4096), far past a sender's own
bound (NEXT_HEIGHT_MESSAGES_PER_SENDER)."""
FLOOD_EVERY_HEIGHTS: Final = 5
"""A flood every few heights: between floods its link drains, so its relayed junk (queued
behind a flood otherwise) arrives while the height it is for is still running."""
JUNK: Final = b"hostile-junk"


def _relaying(original: object) -> object:
    def on_peer_message(self: NodeShell, sender: int, message: peer_pb2.PeerMessage) -> None:
        if message.WhichOneof("kind") == "proposal" and message.proposal.proposer != self.index:
            junk = peer_pb2.PeerMessage()
            junk.CopyFrom(message)
            junk.proposal.block.txs.append(JUNK)
            self.peers.send_all(junk)
        original(self, sender, message)  # type: ignore[operator]

    return on_peer_message


def _flooding(original: object, config: Path) -> object:
    settings = load_node_config(config)
    genesis = load_genesis(settings.genesis)
    key = read_key_file(settings.key_file, unlock=PLAINTEXT_QUIETLY)
    index = next(v.index for v in genesis.validators if v.public_key == bytes(key.verify_key))
    flooded: set[int] = set()

    def broadcast_own(self: Peers, message: Proposal | Vote) -> None:
        original(self, message)  # type: ignore[operator]
        if message.height in flooded or message.height % FLOOD_EVERY_HEIGHTS:
            return
        flooded.add(message.height)
        for i in range(FLOOD_VOTES):
            kind = VoteType.PREVOTE if i % 2 else VoteType.PRECOMMIT
            target = hashlib.sha256(f"flood/{message.height}/{i}".encode()).digest()
            vote = Vote(kind, message.height + 1, i % (MAX_ROUNDS_AHEAD + 1), target, index, b"")
            signature = key.sign(signing_bytes(genesis.chain_id, vote)).signature
            self.send_all(to_wire(Vote(vote.type, vote.height, vote.round, target, index, signature)))

    return broadcast_own


def main() -> None:
    config = Path(sys.argv[1])
    NodeShell.on_peer_message = _relaying(NodeShell.on_peer_message)  # type: ignore[method-assign,assignment]
    Peers.broadcast_own = _flooding(Peers.broadcast_own, config)  # type: ignore[method-assign,assignment]
    liar_node.lie()
    node_main.run_node(config)


if __name__ == "__main__":
    main()
