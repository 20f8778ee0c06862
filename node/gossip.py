"""Transaction gossip: announce by hash, pull what was not seen, answer pulls from the mempool.

Client transactions reach every validator: each one this node takes from a client is announced to
every peer by hash, and a peer that has not seen it pulls it. The gateway sends every ballot to
every validator itself, so full copies pushed on were nearly always redundant (docs/benchmarks.md).
Pulling keeps what a push gave — a transaction an honest validator took from a client reaches
every connected honest peer, one hop, whether or not the client sent it there too — at 32 bytes
per peer when the peer has it already, and PULL_AFTER_S and a round trip later when it has not.
Transactions from peers are not announced again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

from node.clock import Clock
from node.metrics import NodeMetrics
from node.peers import Peers
from node.pending import PendingTxs
from proto.votestore.v1 import peer_pb2
from votestore.hashing import HASH_BYTES
from votestore.limits import MAX_GOSSIP_BYTES

ANNOUNCE_EVERY_S: Final = 0.2
"""Hashes of newly taken client transactions go to peers in one message per this interval: each
message costs a peer stream a write, and announcements only serve transactions a client did not
send to every validator."""
PULL_AFTER_S: Final = 0.2
"""An announced transaction not seen here is asked for only if still unseen this long after the
announcement: the client's own copy (the gateway sends one to every validator) may be on its way,
and under load it often came after a faster validator's announcement."""
MAX_PULLS_WAITING: Final = 100_000
"""Announced hashes waiting out PULL_AFTER_S; beyond this, new announcements are not followed."""
MAX_ANNOUNCED_HASHES: Final = 10_000
"""Hashes read from one TxAnnounce or TxWant; a peer that sends more is sent nothing for the rest."""
"""Transactions per TxGossip message answering a TxWant, by size (peer messages may be 32 MiB)."""


class Gossip:
    """`seen(h)`: held, judged or being judged here, or committed — nothing to pull."""

    def __init__(
        self,
        *,
        pending: PendingTxs,
        peers: Peers,
        seen: Callable[[bytes], bool],
        clock: Clock,
        metrics: NodeMetrics,
    ) -> None:
        self._pending = pending
        self._peers = peers
        self._seen = seen
        self._clock = clock
        self._metrics = metrics
        self._announce: list[bytes] = []
        self._unseen: deque[tuple[float, int, bytes]] = deque()  # (when announced, announcer, hash)

    def announce(self, h: bytes) -> None:
        """A transaction taken from a client: announced with the others of ANNOUNCE_EVERY_S."""
        if not self._announce:
            self._clock.call_later(ANNOUNCE_EVERY_S, self._flush_announce)
        self._announce.append(h)

    def _flush_announce(self) -> None:
        batch, self._announce = self._announce, []
        if batch:
            self._peers.send_all(peer_pb2.PeerMessage(announce=peer_pb2.TxAnnounce(tx_hashes=batch)))

    def on_announce(self, sender: int, hashes: list[bytes]) -> None:
        """Note what this node has not seen; after PULL_AFTER_S ask each announcer for what is
        still unseen. Every announcer of an unseen transaction is asked, so one lost link does not
        lose it: up to n-1 copies then, as the push always sent."""
        unseen = [h for h in hashes[:MAX_ANNOUNCED_HASHES] if len(h) == HASH_BYTES and not self._seen(h)]
        room = MAX_PULLS_WAITING - len(self._unseen)
        if not unseen or room <= 0:
            return
        if not self._unseen:
            self._clock.call_later(PULL_AFTER_S, self._pull_unseen)
        now = self._clock.now()
        self._unseen.extend((now, sender, h) for h in unseen[:room])

    def _pull_unseen(self) -> None:
        now = self._clock.now()
        due = now - PULL_AFTER_S
        wanted: dict[int, list[bytes]] = {}
        while self._unseen and self._unseen[0][0] <= due:
            _, sender, h = self._unseen.popleft()
            if not self._seen(h):
                wanted.setdefault(sender, []).append(h)
        if self._unseen:
            self._clock.call_later(max(0.0, self._unseen[0][0] + PULL_AFTER_S - now), self._pull_unseen)
        for sender, hashes in wanted.items():
            self._metrics.txs_pulled.inc(len(hashes))
            self._peers.send(sender, peer_pb2.PeerMessage(want=peer_pb2.TxWant(tx_hashes=hashes)))

    def on_want(self, sender: int, hashes: list[bytes]) -> None:
        """Send a peer the wanted transactions still in the mempool (one committed meanwhile
        reaches it in its block)."""
        batch: list[bytes] = []
        size = 0
        for h in hashes[:MAX_ANNOUNCED_HASHES]:
            raw = self._pending.get(h)
            if raw is None:
                continue
            if batch and size + len(raw) > MAX_GOSSIP_BYTES:
                self._peers.send(sender, peer_pb2.PeerMessage(txs=peer_pb2.TxGossip(txs=batch)))
                batch, size = [], 0
            batch.append(raw)
            size += len(raw)
        if batch:
            self._peers.send(sender, peer_pb2.PeerMessage(txs=peer_pb2.TxGossip(txs=batch)))
