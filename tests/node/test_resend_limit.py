"""A peer's stuck status is answered with this height's own messages at most once per
RESEND_MIN_INTERVAL_S: a Byzantine peer repeating it cannot make a validator re-queue its
proposals (up to block size each) without end (issue 19, item 6)."""

from __future__ import annotations

import time
from pathlib import Path

from node.shell import RESEND_MIN_INTERVAL_S
from proto.votestore.v1 import peer_pb2
from tests.ledger.election_kit import Election
from tests.node.shell_kit import intake_shell

PEER = 1
REQUESTS = 50


def test_stuck_status_flood_gets_one_resend_per_interval(tmp_path: Path) -> None:
    shell = intake_shell(tmp_path, Election.created(voters=1).chain.app, None)
    try:
        own = [peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=k)) for k in range(3)]
        shell.own_messages = list(own)
        stuck = peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height, stuck=True))
        for _ in range(REQUESTS):
            shell.on_peer_message(PEER, stuck)
        assert shell.outboxes[PEER].qsize() == len(own)
        time.sleep(RESEND_MIN_INTERVAL_S)
        shell.on_peer_message(PEER, stuck)  # an honest peer asking again later is answered
        assert shell.outboxes[PEER].qsize() == 2 * len(own)
    finally:
        shell.store.close()
