"""A peer's stuck status is answered with this height's own messages at most once per
RESEND_MIN_INTERVAL_S: a Byzantine peer repeating it cannot make a validator re-queue its
proposals (up to block size each) without end (issue 19, item 6)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from node.clock import VirtualClock
from node.consensus import Vote, VoteType
from node.repair import RESEND_MIN_INTERVAL_S
from node.shell import NodeShell
from proto.votestore.v1 import peer_pb2
from tests.ledger.election_kit import Election
from tests.node.shell_kit import intake_shell

PEER = 1
REQUESTS = 50


async def _queued(shell: NodeShell) -> int:
    """How many messages wait in the peer's outbox (taken out to count them)."""
    count = 0
    while True:
        try:
            await asyncio.wait_for(shell.peers.next_for(PEER), 0.01)
        except TimeoutError:
            return count
        count += 1


def test_stuck_status_flood_gets_one_resend_per_interval(tmp_path: Path) -> None:
    clock = VirtualClock()
    shell = intake_shell(tmp_path, Election.created(voters=1).chain.app, None, clock=clock)

    async def run() -> None:
        own = [Vote(VoteType.PREVOTE, shell.store.height + 1, r, None, 0, b"\x00" * 64) for r in range(3)]
        for vote in own:
            shell.peers.broadcast_own(vote)
        assert await _queued(shell) == len(own)
        stuck = peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height, stuck=True))
        for _ in range(REQUESTS):
            shell.on_peer_message(PEER, stuck)
        assert await _queued(shell) == len(own)
        clock.advance(RESEND_MIN_INTERVAL_S)
        shell.on_peer_message(PEER, stuck)  # an honest peer asking again later is answered
        assert await _queued(shell) == len(own)

    try:
        asyncio.run(run())
    finally:
        shell.store.close()
