"""The other validators as this node sees them: an outbox each, their claimed heights, who is
connected, this height's own messages (replayed on reconnect, resent to a stuck peer) and the
watchdog that says when this node is stuck.

The outboxes are bounded (OUTBOX_MESSAGES): when one is full the oldest message goes, which is
safe because a reconnect replays this height's own messages and a stuck peer asks for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from node.clock import Clock, Timer
from node.consensus import Proposal, Vote
from node.metrics import NodeMetrics
from node.repair import ResendLimit, resend
from node.wire import proposal_to_wire, vote_to_wire
from proto.votestore.v1 import peer_pb2

log = logging.getLogger("votestore.node")

OUTBOX_MESSAGES: Final = 20_000
STUCK_AFTER_S: Final = 2.0


def to_wire(message: Proposal | Vote) -> peer_pb2.PeerMessage:
    if isinstance(message, Proposal):
        return peer_pb2.PeerMessage(proposal=proposal_to_wire(message))
    return peer_pb2.PeerMessage(vote=vote_to_wire(message))


REPLAYED_KINDS: Final = frozenset({"proposal", "vote", "status", "committed"})
"""Peer messages a new link's replay of this height's own messages (and a fresh status) stands for."""


class Peers:
    """Outboxes, heights and own messages; `height` reads this node's committed height, `held`
    the other validators' votes the core counted at the height it is deciding (relayed to a stuck
    peer: `node.repair.resend`)."""

    def __init__(
        self,
        *,
        n: int,
        index: int,
        height: Callable[[], int],
        clock: Clock,
        metrics: NodeMetrics,
        held: Callable[[], Iterable[Vote]] = tuple,
    ) -> None:
        self._height = height
        self._held = held
        self._clock = clock
        self._metrics = metrics
        self._outboxes: dict[int, asyncio.Queue[peer_pb2.PeerMessage]] = {
            v: asyncio.Queue(OUTBOX_MESSAGES) for v in range(n) if v != index
        }
        self._own: list[tuple[Proposal | Vote, peer_pb2.PeerMessage]] = []  # this height's
        self._heights: dict[int, int] = {}
        self._connected: set[int] = set()
        self._resends = ResendLimit()
        self._watchdog: Timer | None = None

    # ------------------------------------------------------------------ what is known of peers

    @property
    def heights(self) -> Mapping[int, int]:
        """Peers' claimed committed heights: hints (catch-up checks what it fetches)."""
        return self._heights

    def heard_height(self, peer: int, height: int) -> None:
        self._heights[peer] = height

    @property
    def connected(self) -> frozenset[int]:
        return frozenset(self._connected)

    def up(self, peer: int) -> bool:
        """Note a link up; True if it was down."""
        if peer in self._connected:
            return False
        self._connected.add(peer)
        self._metrics.peers.set(len(self._connected))
        log.info("event=peer_up peer=%d", peer)
        return True

    def down(self, peer: int) -> None:
        self._connected.discard(peer)
        self._metrics.peers.set(len(self._connected))

    # ------------------------------------------------------------------ sending

    def send(self, peer: int, message: peer_pb2.PeerMessage) -> None:
        outbox = self._outboxes.get(peer)
        if outbox is None:
            return
        if outbox.full():
            outbox.get_nowait()  # oldest first; reconnect replays this height's own messages
        outbox.put_nowait(message)

    def send_all(self, message: peer_pb2.PeerMessage) -> None:
        for peer in self._outboxes:
            self.send(peer, message)

    def broadcast_own(self, message: Proposal | Vote) -> None:
        """A message this node signed: to every peer, and kept for replay until the height ends."""
        wire = to_wire(message)
        self._own.append((message, wire))
        self.send_all(wire)

    def height_committed(self, height: int) -> None:
        """This node committed `height`: its messages for it are history; tell the peers."""
        self._own = []
        self.send_all(peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=height)))

    def session_started(self, peer: int) -> list[peer_pb2.PeerMessage]:
        """A new link to `peer` is being set up: empty its outbox now, before the handshake, and
        return what queued that the replay does not stand for (client-transaction traffic:
        announce, want, txs), to send after the replay; this height's consensus messages are
        replaced by `reconnected`. Emptied after the handshake instead, the outbox lost what
        queued during the challenge round trip (an announcement was never pulled)."""
        outbox = self._outboxes[peer]
        kept = []
        while not outbox.empty():
            message = outbox.get_nowait()
            if message.WhichOneof("kind") not in REPLAYED_KINDS:
                kept.append(message)
        return kept

    def reconnected(self, peer: int) -> list[peer_pb2.PeerMessage]:
        """The link to `peer` is up: this height's own messages, to send first (what queued for
        it before is replaced by these: `session_started`)."""
        return [wire for _, wire in self._own]

    async def next_for(self, peer: int) -> peer_pb2.PeerMessage:
        return await self._outboxes[peer].get()

    def take_queued(self, peer: int) -> list[peer_pb2.PeerMessage]:
        """Everything queued for `peer`, oldest first, without waiting: the simulator's link,
        which hands each message to its seeded network."""
        outbox = self._outboxes[peer]
        return [outbox.get_nowait() for _ in range(outbox.qsize())]

    # ------------------------------------------------------------------ stuck peers, stuck self

    def on_status(self, peer: int, status: peer_pb2.PeerStatus) -> None:
        """A peer's height; if it is stuck at this node's height, send it again what `resend`
        picks of this node's own messages and the votes it holds, at most once per ResendLimit
        interval."""
        self._heights[peer] = status.height
        if not status.stuck or status.height != self._height():
            return
        outbox = self._outboxes.get(peer)
        if outbox is None:
            return
        if not self._resends.allow(peer, self._clock.now()):
            self._metrics.invalid_messages.labels(reason="resend_too_soon").inc()
            return
        wires = {id(m): wire for m, wire in self._own}
        for message in resend([m for m, _ in self._own], self._held(), status.height + 1, status.round):
            if outbox.full():
                return
            wire = wires.get(id(message))
            outbox.put_nowait(to_wire(message) if wire is None else wire)

    def watch_progress(self, round_: Callable[[], int]) -> None:
        """Every STUCK_AFTER_S without a commit, ask peers at this height to send their messages
        for it again: consensus assumes every message eventually arrives, and a link that dropped
        (or a buffer that overflowed) would otherwise lose some for good."""
        last = self._height()

        def check() -> None:
            nonlocal last
            height = self._height()
            if height == last:
                status = peer_pb2.PeerStatus(height=height, round=round_(), stuck=True)
                self.send_all(peer_pb2.PeerMessage(status=status))
            last = height
            self._watchdog = self._clock.call_later(STUCK_AFTER_S, check)

        self._watchdog = self._clock.call_later(STUCK_AFTER_S, check)

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
