"""The node's shell: the loop that feeds the consensus core and carries out its actions, and the
wiring of the services around it.

Each job is a service of its own (docs/architecture.md): `PendingTxs` (the mempool and its
caches), `Admission` (intake), `Gossip` (transactions by hash), `Peers` (outboxes, heights,
resend, watchdog), `BlockValidity` and `Proposer` (valid(v), getValue()), `Committer` (apply a
decided block). Time comes from an injected `Clock`. Actions are carried out in the order the
core returns them, so a last-signed record is on disk before the message it guards leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Final

from election.app import ElectionApp
from node.admission import Admission
from node.amnesia import AmnesiaGuard
from node.clock import Clock
from node.commit import Committer
from node.config import NodeConfig
from node.consensus import (
    Action,
    Applied,
    Broadcast,
    Commit,
    Consensus,
    Decided,
    Event,
    PersistSigned,
    Proposal,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
    Start,
    Vote,
)
from node.evidence import EvidencePool
from node.gossip import Gossip
from node.intake import StatelessChecks
from node.ledger.store import Store
from node.metrics import IGNORED_REASONS, NodeMetrics
from node.peers import Peers
from node.pending import PendingTxs
from node.proposer import BlockValidity, Proposer
from node.readiness import ReadyVotes
from node.round_timers import RoundTimers
from node.signing import GenesisVerifier
from node.signing_gate import SigningGate
from node.verify_pool import VerifyPool
from node.wire import certificate_from_wire, consensus_message, encode_last_signed, vote_to_wire
from proto.votestore.v1 import ledger_pb2, peer_pb2
from votestore.encoding import canonical
from votestore.errors import DecodeError, StoreCorrupted
from votestore.genesis import Genesis

log = logging.getLogger("votestore.node")

MAX_PENDING_EVENTS: Final = 100_000


class NodeShell:
    """One validator's loop, and the services it wires together (read them as attributes)."""

    def __init__(
        self,
        *,
        genesis: Genesis,
        index: int,
        config: NodeConfig,
        store: Store,
        app: ElectionApp,
        validity: BlockValidity,
        consensus: Consensus,
        metrics: NodeMetrics,
        pool: VerifyPool | None,
        clock: Clock,
    ) -> None:
        self.genesis = genesis
        self.index = index
        self.store = store
        self.app = app
        self.metrics = metrics
        self.consensus = consensus
        self.validity = validity
        self.clock = clock
        self.catching_up = False
        self.pending = PendingTxs(config.mempool_max_txs, config.mempool_max_bytes)
        checks = StatelessChecks(genesis.chain_id, pool, lambda h: store.locate(h) is not None)
        self.peers = Peers(
            n=genesis.n,
            index=index,
            height=lambda: store.height,
            clock=clock,
            metrics=metrics,
            held=consensus.held_votes,
        )
        self.admission = Admission(store=store, app=app, pending=self.pending, checks=checks, metrics=metrics)
        self.gossip = Gossip(
            pending=self.pending,
            peers=self.peers,
            seen=lambda h: (
                h in self.pending
                or self.pending.is_verified(h)
                or checks.pending(h)
                or store.locate(h) is not None
            ),
            clock=clock,
            metrics=metrics,
        )
        self.ready_votes = ReadyVotes(genesis.chain_id, genesis.validator_keys())
        self.evidence = EvidencePool(
            genesis=genesis,
            store=store,
            committed=validity.committed_evidence,
            metrics=metrics,
            send_all=self.peers.send_all,
        )
        self.proposer = Proposer(
            genesis=genesis,
            index=index,
            store=store,
            pending=self.pending,
            ready=self.ready_votes,
            evidence=self.evidence.for_block,
            clock=clock,
            empty_block_interval_s=config.empty_block_interval_ms / 1000,
            batch_wait_s=config.batch_wait_ms / 1000,
            block_max_txs=config.block_max_txs,
            block_max_bytes=config.block_max_bytes,
            position=lambda: (consensus.height, consensus.round),
            feed=self._feed,
        )
        self.committer = Committer(
            genesis=genesis,
            store=store,
            app=app,
            pending=self.pending,
            checks=checks,
            validity=validity,
            clock=clock,
            metrics=metrics,
            params=self.admission.params_for,
            cheap_refusal=self.admission.cheap_refusal,
            applied=self._applied,
        )
        self.admission.listen(client_tx=self.gossip.announce, arrival=self.proposer.tx_arrived)
        self.signing = SigningGate(
            guard=AmnesiaGuard(
                index=index,
                size=genesis.n,
                watch_heights=config.amnesia_watch_heights,
                has_record=store.last_signed() is not None or store.cleared_to_sign(),
                marked=store.watch_before_signing(),
                store_height=store.height,
                quorum=genesis.quorum,
            ),
            consensus=consensus,
            store=store,
            chain_id=genesis.chain_id,
            verifier=GenesisVerifier(genesis.validator_keys()),
            index=index,
            metrics=metrics,
            watch_heights=config.amnesia_watch_heights,
            feed=self._feed,
        )
        self.timers = RoundTimers(clock, self._feed)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._damage: StoreCorrupted | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._dropped_exported: dict[str, int] = {}

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """The consensus loop: one event at a time, actions in order."""
        self._run_task = asyncio.current_task()
        self._feed(Start())
        while True:
            try:
                event = await self._events.get()
            except asyncio.CancelledError:
                if self._damage is not None:  # a spawned task read a damaged record: stop on it
                    raise self._damage from None
                raise
            actions = self.consensus.step(event)
            for action in actions:
                if isinstance(action, Commit):
                    await self.committer.commit(action)
                    self.signing.committed(action, self.peers.heights)
                else:
                    self._perform(action)
            if any(isinstance(action, Commit) for action in actions):
                self._feed(Applied())
            self._export_round_state()

    def start_watchdog(self) -> None:
        self.peers.watch_progress(lambda: self.consensus.round)

    def _feed(self, event: Event) -> None:
        self._events.put_nowait(event)

    def spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """A spawned task that read a damaged record stops the loop with it (node/main.py marks
        the store and stops once); its exception is retrieved, never left to asyncio's log."""
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None and not isinstance(exc, StoreCorrupted):
            log.error("event=task_failed error=%r", exc, exc_info=exc)
        if not isinstance(exc, StoreCorrupted):
            return
        if self._damage is None:
            self._damage = exc
            if self._run_task is not None:
                self._run_task.cancel()

    def stop(self) -> None:
        self.peers.stop()
        self.proposer.stop()
        self.timers.stop()
        for task in list(self._tasks):
            task.cancel()

    def _export_round_state(self) -> None:
        self.metrics.round.set(self.consensus.round)
        self.metrics.step.set(int(self.consensus.current_step))
        for reason, count in self.consensus.dropped.items():
            seen = self._dropped_exported.get(reason, 0)
            if count > seen:
                counter = (
                    self.metrics.ignored_messages
                    if reason in IGNORED_REASONS
                    else self.metrics.invalid_messages
                )
                counter.labels(reason=reason).inc(count - seen)
                self._dropped_exported[reason] = count

    # ------------------------------------------------------------------ actions

    def _perform(self, action: Action) -> None:
        if isinstance(action, PersistSigned):
            self.store.save_last_signed(encode_last_signed(action.record))
        elif isinstance(action, Broadcast):
            self.peers.broadcast_own(action.message)
            if isinstance(action.message, Vote):
                self.evidence.heard(vote_to_wire(action.message))
        elif isinstance(action, ScheduleTimeout):
            self.timers.schedule(action)
        elif isinstance(action, RequestProposal):
            self.proposer.request(action.height, action.round, action.skipped)
        elif isinstance(action, RecordEvidence):
            evidence = ledger_pb2.Evidence(
                vote_a=vote_to_wire(action.vote_a), vote_b=vote_to_wire(action.vote_b)
            )
            self.evidence.found(evidence)

    def _applied(self, height: int, block: ledger_pb2.Block) -> None:
        self.proposer.results_pending = bool(block.txs)
        self.evidence.block_committed(height, list(block.evidence))
        self.peers.height_committed(height)

    # ------------------------------------------------------------------ dispatch

    def on_peer_message(self, sender: int, message: peer_pb2.PeerMessage) -> None:
        try:
            event = consensus_message(message)
        except DecodeError:
            return self.metrics.invalid_messages.labels(reason="undecodable").inc()
        if event is not None:
            if message.WhichOneof("kind") == "vote":
                self.ready_votes.heard(message.vote, self.consensus.skipped)
                self.evidence.heard(message.vote)
            if isinstance(event, Proposal | Vote):
                self.signing.message(event)
            if self._events.qsize() >= MAX_PENDING_EVENTS:
                return self.metrics.invalid_messages.labels(reason="event_queue_full").inc()
            return self._feed(event)
        kind = message.WhichOneof("kind")
        if kind == "status":
            self.peers.on_status(sender, message.status)
            return self.signing.peer_heights(self.peers.heights)
        if kind == "txs":
            return self.spawn(self._take_gossip(list(message.txs.txs)))
        if kind == "announce":
            return self.gossip.on_announce(sender, list(message.announce.tx_hashes))
        if kind == "want":
            return self.gossip.on_want(sender, list(message.want.tx_hashes))
        if kind == "evidence":
            return self.evidence.received(message.evidence)
        return self.metrics.invalid_messages.labels(reason=f"unexpected_{kind}").inc()

    async def _take_gossip(self, txs: list[bytes]) -> None:
        await self.admission.submit_many(txs, from_peer=True)  # those the full mempool refused are dropped

    def feed_decided(
        self, certificate: ledger_pb2.CommitCertificate, block: ledger_pb2.Block, verified: Iterable[bytes]
    ) -> None:
        """A block certified elsewhere, its certificate already checked by catch-up; `verified`
        are its transactions whose results are certified."""
        for h in verified:
            self.pending.remember_verified(h)
        self._feed(Decided(certificate_from_wire(certificate), canonical(block), certificate_checked=True))
        self.metrics.catchup_blocks.inc()
