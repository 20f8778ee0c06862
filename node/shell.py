"""The node's shell: one asyncio loop that feeds the consensus core and carries out its actions.

Everything with a side effect lives here — the store, the clock, timers, the mempool, the
verification pool, the peers — and the core sees none of it. Actions are carried out in the order
the core returns them, so a last-signed record is on disk before the message it guards leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import DecodeError as ProtobufDecodeError

from election.app import BlockOutcome, ElectionApp
from election.policy import BlockContext
from election.stateless import ElectionParams
from node.config import NodeConfig
from node.consensus import (
    Action,
    Applied,
    Broadcast,
    BuiltBy,
    Commit,
    Consensus,
    Decided,
    Event,
    PersistSigned,
    Proposal,
    ProposalValue,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
    Start,
    Timeout,
    TimeoutConfig,
    ValidatorSet,
    Validity,
    Vote,
    leader,
)
from node.intake import Arrival, Checked, StatelessChecks
from node.ledger.store import Store, check_child
from node.mempool import Mempool, MempoolFull
from node.metrics import NodeMetrics
from node.verify_pool import VerifyPool
from node.wire import (
    certificate_from_wire,
    certificate_to_wire,
    encode_last_signed,
    proposal_from_wire,
    proposal_to_wire,
    vote_from_wire,
    vote_to_wire,
)
from proto.votestore.v1 import election_pb2, ledger_pb2, peer_pb2
from votestore.blocks import BlockInvalid, check_evidence, evidence_root, tx_root
from votestore.encoding import DecodedTx, block_id, canonical, tx_hash
from votestore.errors import DecodeError
from votestore.genesis import Genesis
from votestore.hashing import HASH_BYTES

log = logging.getLogger("votestore.node")

MAX_PENDING_EVENTS: Final = 100_000
VERIFIED_CACHE_TXS: Final = 1_000_000
TALLY_POINTS_TXS: Final = 20_000
"""Pending ballots whose points the verify worker handed over are kept (2 KiB each for 4 choices:
40 MiB at most); beyond this, a ballot's points are decoded again when its block executes."""
DECODED_TXS: Final = 4_096
"""Pending transactions kept decoded as intake decoded them, for their block's execution (about
7 KiB a 4-choice ballot: 28 MiB at most); beyond this, a transaction is decoded again then."""
OUTBOX_MESSAGES: Final = 20_000
MAX_EVIDENCE_PER_BLOCK: Final = 64
STUCK_AFTER_S: Final = 2.0
RESEND_MIN_INTERVAL_S: Final = STUCK_AFTER_S / 2
"""A peer's stuck status is answered with this height's own messages at most this often (an
honest peer asks once every STUCK_AFTER_S; each answer may carry proposals of block size)."""
ANNOUNCE_EVERY_S: Final = 0.2
"""Hashes of newly taken client transactions go to peers in one message per this interval. Each
message costs ~170 us of CPU a peer stream to write (py-spy, bench.cluster at half of peak: peer
writes were a fifth of the node process); at 0.05 s the announcements were a third of them, for
a path that only serves transactions a client did not send to every validator."""
PULL_AFTER_S: Final = 0.2
"""An announced transaction not seen here is asked for only if still unseen this long after the
announcement: the client's own copy (the gateway sends one to every validator) may be on its way,
and under load it often came after a faster validator's announcement."""
MAX_PULLS_WAITING: Final = 100_000
"""Announced hashes waiting out PULL_AFTER_S; beyond this, new announcements are not followed."""
MAX_ANNOUNCED_HASHES: Final = 10_000
"""Hashes read from one TxAnnounce or TxWant; a peer that sends more is sent nothing for the rest."""
MAX_GOSSIP_BYTES: Final = 4 * 1024 * 1024
"""Transactions per TxGossip message answering a TxWant, by size (peer messages may be 32 MiB)."""


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    tx_hash: bytes
    code: int
    detail: str
    committed: bool = False


def parse_identified(identity: bytes, payload: bytes) -> ledger_pb2.Block | None:
    """The block `identity` names, if `payload` is exactly its canonical encoding; else None."""
    block = ledger_pb2.Block()
    try:
        block.ParseFromString(payload)
    except ProtobufDecodeError:
        return None
    if block_id(block.header) != identity or canonical(block) != payload:
        return None
    return block


def built_by(identity: bytes, payload: bytes) -> int | None:
    """The leader rule's reading of a block: who built it (BuiltBy in node/consensus)."""
    block = parse_identified(identity, payload)
    return None if block is None else block.header.proposer


def recent_proposers(store: Store, validators: ValidatorSet) -> list[int]:
    """The leader rule's history after a restart: the stored headers' proposers, oldest first."""
    first = max(1, store.height - leader.window(validators) + 1)
    return [store.block(height).header.proposer for height in range(first, store.height + 1)]


class Resources(Exception):
    """The node cannot take more now (mempool or event queue at its bound)."""


class NodeShell:
    """Owns one validator's consensus core, ledger, application and mempool."""

    def __init__(
        self,
        *,
        genesis: Genesis,
        index: int,
        config: NodeConfig,
        store: Store,
        app: ElectionApp,
        consensus_factory: Callable[[Validity, BuiltBy, TimeoutConfig, int, Sequence[int]], Consensus],
        metrics: NodeMetrics,
        pool: VerifyPool | None,
    ) -> None:
        self.genesis = genesis
        self.index = index
        self.config = config
        self.store = store
        self.app = app
        self.metrics = metrics
        timeouts = TimeoutConfig(
            propose_ms=genesis.timeouts.propose_ms,
            prevote_ms=genesis.timeouts.prevote_ms,
            precommit_ms=genesis.timeouts.precommit_ms,
            delta_ms=genesis.timeouts.delta_ms,
        )
        self.validators = ValidatorSet(genesis.n)
        self._validator_keys = genesis.validator_keys()
        self.consensus = consensus_factory(
            self._valid, built_by, timeouts, store.height + 1, recent_proposers(store, self.validators)
        )
        self.mempool = Mempool(config.mempool_max_txs, config.mempool_max_bytes)
        self._voter_of: dict[bytes, bytes] = {}  # mempool ballot hash -> voter credential key
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._tally_points: dict[bytes, bytes] = {}  # mempool or decided ballots' decoded points
        self._decoded: dict[bytes, DecodedTx] = {}  # mempool or decided transactions, decoded
        self._params: dict[str, ElectionParams] = {}  # opened elections, at most MAX_ELECTIONS
        self._checks = StatelessChecks(genesis.chain_id, pool, lambda h: self.store.locate(h) is not None)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._timers: set[asyncio.TimerHandle] = set()
        self._tx_arrived = asyncio.Event()
        self.committed = asyncio.Condition()
        self.outboxes: dict[int, asyncio.Queue[peer_pb2.PeerMessage]] = {
            v: asyncio.Queue(OUTBOX_MESSAGES) for v in range(genesis.n) if v != index
        }
        self.own_messages: list[peer_pb2.PeerMessage] = []  # this height's, replayed on reconnect
        self._resent_at: dict[int, float] = {}  # by peer: when its last stuck status was answered
        self.peer_heights: dict[int, int] = {}
        self.connected: set[int] = set()
        self.catching_up = False
        self._results_pending = False  # the last block held transactions the next header certifies
        self._valid_child: tuple[bytes, bytes] | None = None  # (tip's id, payload) `_valid` passed last
        self._height_started = time.monotonic()
        self._announce: list[bytes] = []
        self._unseen: deque[tuple[float, int, bytes]] = deque()  # (when announced, announcer, hash)
        self._tasks: set[asyncio.Task[None]] = set()
        self._dropped_exported: dict[str, int] = {}

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """The consensus loop: one event at a time, actions in order."""
        self._feed(Start())
        while True:
            event = await self._events.get()
            actions = self.consensus.step(event)
            for action in actions:
                if isinstance(action, Commit):
                    await self._commit(action)
                else:
                    self._perform(action)
            if any(isinstance(action, Commit) for action in actions):
                self._feed(Applied())
            self._export_round_state()

    def _feed(self, event: Event) -> None:
        self._events.put_nowait(event)

    def spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()

    def _export_round_state(self) -> None:
        self.metrics.round.set(self.consensus.round)
        self.metrics.step.set(int(self.consensus.current_step))
        for reason, count in self.consensus.dropped.items():
            seen = self._dropped_exported.get(reason, 0)
            if count > seen:
                self.metrics.invalid_messages.labels(reason=reason).inc(count - seen)
                self._dropped_exported[reason] = count

    # ------------------------------------------------------------------ actions

    def _perform(self, action: Action) -> None:
        if isinstance(action, PersistSigned):
            self.store.save_last_signed(encode_last_signed(action.record))
        elif isinstance(action, Broadcast):
            self._broadcast_consensus(action.message)
        elif isinstance(action, ScheduleTimeout):
            self._schedule(action)
        elif isinstance(action, RequestProposal):
            self.spawn(self._propose(action.height, action.round))
        elif isinstance(action, RecordEvidence):
            evidence = ledger_pb2.Evidence(
                vote_a=vote_to_wire(action.vote_a), vote_b=vote_to_wire(action.vote_b)
            )
            if self.store.add_evidence(evidence):
                self.metrics.evidence.inc()
                log.warning(
                    "event=evidence validator=%d height=%d", action.vote_a.validator, action.vote_a.height
                )

    def _broadcast_consensus(self, message: Proposal | Vote) -> None:
        if isinstance(message, Proposal):
            wire = peer_pb2.PeerMessage(proposal=proposal_to_wire(message))
        else:
            wire = peer_pb2.PeerMessage(vote=vote_to_wire(message))
        self.own_messages.append(wire)
        self.send_to_peers(wire)

    def send_to_peers(self, message: peer_pb2.PeerMessage) -> None:
        for peer in self.outboxes:
            self._send_to(peer, message)

    def _send_to(self, peer: int, message: peer_pb2.PeerMessage) -> None:
        outbox = self.outboxes.get(peer)
        if outbox is None:
            return
        if outbox.full():
            outbox.get_nowait()  # oldest first; reconnect replays this height's own messages
        outbox.put_nowait(message)

    def _schedule(self, action: ScheduleTimeout) -> None:
        loop = asyncio.get_running_loop()
        event = Timeout(action.kind, action.height, action.round)

        def fire() -> None:
            self._timers.discard(handle)
            self._feed(event)

        handle = loop.call_later(action.duration_ms / 1000, fire)
        self._timers.add(handle)

    # ------------------------------------------------------------------ proposing

    async def _propose(self, height: int, round_: int) -> None:
        """The paper's getValue(): the oldest pending transactions, or an empty block after a while
        — at once if the last block held transactions: their results count only once the next
        header certifies them, so every receipt of that block waits for this one."""
        if not len(self.mempool) and not self._results_pending:
            self._tx_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tx_arrived.wait(), self.config.empty_block_interval_ms / 1000)
        if len(self.mempool) < self.config.block_max_txs:
            await asyncio.sleep(self.config.batch_wait_ms / 1000)  # let a burst gather into one block
        if (self.consensus.height, self.consensus.round) != (height, round_):
            return
        tip = self.store.tip
        txs = self.mempool.reap(self.config.block_max_txs, self.config.block_max_bytes)
        evidence = self.store.pending_evidence()[:MAX_EVIDENCE_PER_BLOCK]
        header = ledger_pb2.BlockHeader(
            chain_id=self.genesis.chain_id,
            height=height,
            time_ms=max(int(time.time() * 1000), tip.time_ms + 1),
            prev_block_hash=tip.block_id,
            tx_root=tx_root(txs),
            app_hash=tip.app_hash,
            results_hash=tip.results_hash,
            proposer=self.index,
            evidence_hash=evidence_root(evidence),
        )
        block = ledger_pb2.Block(header=header, txs=txs, evidence=evidence)
        self._feed(ProposalValue(height, round_, block_id(header), canonical(block)))

    # ------------------------------------------------------------------ validity (the paper's valid(v))

    def _valid(self, height: int, builders: frozenset[int], identity: bytes, payload: bytes) -> bool:
        tip = self.store.tip
        if height != tip.height + 1 or len(payload) > self.config.block_max_bytes * 2:
            return False
        block = parse_identified(identity, payload)
        if block is None:
            return False
        if block.header.proposer not in builders:
            log.info("event=invalid_proposal height=%d why=header_proposer", height)
            return False
        if len(block.evidence) > MAX_EVIDENCE_PER_BLOCK:
            return False
        try:
            check_child(self.genesis, tip, block)
            for evidence in block.evidence:
                check_evidence(self.genesis.chain_id, self._validator_keys, evidence)
        except BlockInvalid as exc:
            log.info("event=invalid_proposal height=%d why=%s", height, exc)
            return False
        if block.header.time_ms > time.time() * 1000 + self.genesis.max_clock_drift_ms:
            log.info("event=invalid_proposal height=%d why=time_ahead", height)
            return False
        self._valid_child = (tip.block_id, payload)
        return True

    # ------------------------------------------------------------------ committing

    async def _commit(self, action: Commit) -> None:
        """Check what the decided block holds that this node has not checked, then apply it; the
        block is parsed and its transactions hashed once for both."""
        block = ledger_pb2.Block()
        block.ParseFromString(action.payload)
        # The core read the builder from this very header (BuiltBy); after a restart the leader
        # rule's history is read back from the stored headers.
        assert block.header.proposer == action.proposer, (action.height, block.header.proposer)
        hashes = [tx_hash(raw) for raw in block.txs]
        await self._verify_block(block, hashes)
        self._apply(action.height, action.payload, block, hashes, certificate_to_wire(action.certificate))

    def _apply(
        self,
        height: int,
        payload: bytes,
        block: ledger_pb2.Block,
        hashes: list[bytes],
        certificate: ledger_pb2.CommitCertificate,
    ) -> None:
        tip = self.store.tip
        # A certified block that does not extend our chain means more than f faulty validators:
        # nothing safe remains to do but stop and say so.
        assert height == tip.height + 1, (height, tip.height)
        if (tip.block_id, payload) != self._valid_child:  # else `_valid` checked it on this tip
            check_child(self.genesis, tip, block)
        outcome = self.app.execute_block(
            BlockContext(height, block.header.time_ms),
            block.txs,
            self._verified,
            self._tally_points,
            hashes,
            self._decoded,
        )
        self.store.commit_block(block, certificate, outcome.results, outcome.app_hash, outcome.writes, hashes)
        self.app.commit(outcome)
        voters = {self._voter_of.get(h) for h in hashes} - {None}
        self._forget(hashes)
        if voters:
            stale = [h for h, voter in self._voter_of.items() if voter in voters]
            self._forget(stale)
        self._results_pending = bool(block.txs)
        self._record_commit(height, outcome)
        self.own_messages = []
        self.send_to_peers(peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=height)))
        self.spawn(self._notify_commit())

    async def _verify_block(self, block: ledger_pb2.Block, hashes: list[bytes]) -> None:
        """Check a decided block's transactions this validator has not checked yet on the pool,
        ahead of its queue, joining checks already running: without this, `execute_block`
        re-verified them in the loop while the pool was verifying the same ones (a validator
        that lags behind the f+1 that took a ballot first meets most of a block this way)."""
        unverified = [
            Arrival.of(h, raw) for h, raw in zip(hashes, block.txs, strict=True) if h not in self._verified
        ]
        # one its state checks refuse is refused by execution too, before its proofs
        missing = [arrival for arrival in unverified if self._cheap_refusal(arrival) is None]
        if not missing:
            return
        for arrival in missing:
            self._keep_decoded(arrival)  # forgotten once the block is applied
        results = await self._checks.check([(a, self._params_for(a)) for a in missing], first=True)
        for arrival, checked in zip(missing, results, strict=True):
            if checked is not None and checked.result.code == election_pb2.OK:
                self._remember_verified(arrival.tx_hash)
                # forgotten once the block is applied
                self._keep_points(arrival.tx_hash, checked.tally_points)

    def _forget(self, hashes: Iterable[bytes]) -> None:
        hashes = list(hashes)
        self.mempool.remove(hashes)
        for h in hashes:
            self._voter_of.pop(h, None)
            self._verified.pop(h, None)
            self._tally_points.pop(h, None)
            self._decoded.pop(h, None)

    def _record_commit(self, height: int, outcome: BlockOutcome) -> None:
        now = time.monotonic()
        self.metrics.commit_latency.observe(now - self._height_started)
        self._height_started = now
        self.metrics.height.set(height)
        self.metrics.mempool_txs.set(len(self.mempool))
        self.metrics.mempool_bytes.set(self.mempool.size_bytes)
        committed = Counter(zip(outcome.kinds, (result.code for result in outcome.results), strict=True))
        for (kind, code), count in committed.items():
            self.metrics.txs_committed.labels(kind=kind, result=election_pb2.ResultCode.Name(code)).inc(count)
        log.info("event=commit height=%d txs=%d", height, len(outcome.results))

    async def wait_for_height(self, height: int) -> None:
        async with self.committed:
            await self.committed.wait_for(lambda: self.store.height >= height)

    async def _notify_commit(self) -> None:
        async with self.committed:
            self.committed.notify_all()

    # ------------------------------------------------------------------ intake

    async def submit(self, raw: bytes, *, from_peer: bool = False) -> SubmitOutcome:
        """Check a transaction and keep it for a block; the answer says why if it was refused.
        Raises Resources at the mempool's bound."""
        (outcome,) = await self.submit_many([raw], from_peer=from_peer)
        if isinstance(outcome, Resources):
            raise outcome
        return outcome

    async def submit_many(
        self, raws: Sequence[bytes], *, from_peer: bool = False
    ) -> list[SubmitOutcome | Resources]:
        """`submit` for each transaction, answers in order, Resources in the place of each one the
        full mempool could not take. The checks share one wait: no task and future per
        transaction, as gathering `submit`s costs. (A transaction over MAX_TX_BYTES is answered
        MALFORMED, by its stateless check.) Each is decoded once here for what routes it."""
        arrivals = [Arrival.of(tx_hash(raw), raw) for raw in raws]
        fresh = [a for a in arrivals if self._known(a.tx_hash) is None and a.tx_hash not in self._verified]
        refused = {h: result for h, result in ((a.tx_hash, self._cheap_refusal(a)) for a in fresh) if result}
        unchecked = [(a, self._params_for(a)) for a in fresh if a.tx_hash not in refused]
        answers = await self._checks.check(unchecked)
        checked = dict(zip([a.tx_hash for a, _ in unchecked], answers, strict=True))
        checked.update((h, Checked(result)) for h, result in refused.items())
        size = len(self.mempool)
        outcomes = [self._take(a, checked, from_peer) for a in arrivals]
        if len(self.mempool) > size:
            self._tx_arrived.set()
            self.metrics.mempool_txs.set(len(self.mempool))
            self.metrics.mempool_bytes.set(self.mempool.size_bytes)
        return outcomes

    def _cheap_refusal(self, arrival: Arrival) -> election_pb2.TxResult | None:
        """The refusal of a transaction's state checks (size, phase, window, roll, voted: a few
        microseconds) against committed state, or None: a transaction they refuse never costs a
        signature or proof check (issue 18, attack 3)."""
        if arrival.decoded is None:
            return None  # its stateless check answers MALFORMED
        result = self.app.check_decoded(arrival.tx_hash, arrival.decoded, preverified=True)
        return None if result.code == election_pb2.OK else result

    def _known(self, h: bytes) -> SubmitOutcome | None:
        """The answer for a transaction committed or pending here, else None."""
        if self.store.locate(h) is not None:
            return SubmitOutcome(h, election_pb2.OK, "already committed", committed=True)
        if h in self.mempool:
            return SubmitOutcome(h, election_pb2.OK, "already pending")
        return None

    def _take(
        self, arrival: Arrival, checked: Mapping[bytes, Checked | None], from_peer: bool
    ) -> SubmitOutcome | Resources:
        """Judge a transaction against committed state once its stateless check (in `checked`
        unless it passed one before) is done, and keep it if it passes."""
        h = arrival.tx_hash
        known = self._known(h)  # again: committed meanwhile, or this batch's earlier copy
        if known is not None:
            return known
        points = b""
        if h in checked:
            answer = checked[h]
            assert answer is not None, "a check answers None only for a committed transaction"
            if answer.result.code != election_pb2.OK:
                return self._refuse(h, answer.result)
            self._remember_verified(h)
            points = answer.tally_points
        assert arrival.decoded is not None, "a transaction that does not decode fails its check"
        result = self.app.check_decoded(h, arrival.decoded, preverified=True)
        if result.code != election_pb2.OK:
            return self._refuse(h, result)
        try:
            added = self.mempool.add(h, arrival.raw)
        except MempoolFull as exc:
            self.metrics.tx_refused.labels(reason="MEMPOOL_FULL").inc()
            return Resources(str(exc))
        if added:
            self._keep_points(h, points)
            self._keep_decoded(arrival)
            if arrival.kind == "ballot":
                self._voter_of[h] = arrival.signer
            if not from_peer:
                self._queue_announce(h)
        return SubmitOutcome(h, election_pb2.OK, "pending")

    def _params_for(self, arrival: Arrival) -> ElectionParams | None:
        """The parameters its check needs, from committed state. An election's parameters never
        change once its key is set: read and parse them once."""
        cached = self._params.get(arrival.election_id)
        if cached is not None or arrival.kind == "malformed":
            return cached
        record = self.app.election_state(arrival.election_id)
        if record is None:
            return None
        params = ElectionParams.of(record)
        if params.election_key:
            self._params[arrival.election_id] = params
        return params

    def _refuse(self, h: bytes, result: election_pb2.TxResult) -> SubmitOutcome:
        self.metrics.tx_refused.labels(reason=election_pb2.ResultCode.Name(result.code)).inc()
        return SubmitOutcome(h, result.code, result.detail)

    def _keep_points(self, h: bytes, points: bytes) -> None:
        """Keep a ballot's handed-over points for its block, within TALLY_POINTS_TXS; only for a
        transaction in the mempool or in the decided block: `_forget` drops them with it."""
        if points and len(self._tally_points) < TALLY_POINTS_TXS:
            self._tally_points[h] = points

    def _keep_decoded(self, arrival: Arrival) -> None:
        """Keep a transaction decoded for its block, within DECODED_TXS; only for one in the
        mempool or in the decided block: `_forget` drops it with it."""
        if arrival.decoded is not None and len(self._decoded) < DECODED_TXS:
            self._decoded[arrival.tx_hash] = arrival.decoded

    def _remember_verified(self, h: bytes) -> None:
        self._verified[h] = None
        while len(self._verified) > VERIFIED_CACHE_TXS:
            oldest, _ = self._verified.popitem(last=False)
            # points go only with a verified hash (execute_tx asserts it): that ballot is decoded
            # and checked again in its block
            self._tally_points.pop(oldest, None)

    # ------------------------------------------------------------------ transaction gossip

    def _queue_announce(self, h: bytes) -> None:
        """Client transactions reach every validator: each one this node takes from a client is
        announced to every peer by hash, and a peer that has not seen it pulls it (`_on_announce`).

        The gateway sends every ballot to every validator itself, so the full copies this node
        used to push on were nearly always redundant: each validator received, parsed and looked
        up each ballot four times (docs/benchmarks.md). Pulling keeps what the push gave — a
        transaction an honest validator took from a client reaches every connected honest peer,
        one hop, whether or not the client sent it there too — at 32 bytes per peer when the peer
        has it already, and PULL_AFTER_S and a round trip later when it has not. Transactions
        from peers are not announced again, as they were not pushed on before."""
        if not self._announce:
            asyncio.get_running_loop().call_later(ANNOUNCE_EVERY_S, self._flush_announce)
        self._announce.append(h)

    def _flush_announce(self) -> None:
        batch, self._announce = self._announce, []
        if batch:
            self.send_to_peers(peer_pb2.PeerMessage(announce=peer_pb2.TxAnnounce(tx_hashes=batch)))

    def _seen(self, h: bytes) -> bool:
        """Held, judged or being judged here: nothing to pull. (A transaction refused by its
        stateless check is not remembered and would be pulled again: honest peers announce only
        transactions that passed it.)"""
        return (
            h in self.mempool
            or h in self._verified
            or self._checks.pending(h)
            or self.store.locate(h) is not None
        )

    def _on_announce(self, sender: int, hashes: list[bytes]) -> None:
        """Note what this node has not seen; after PULL_AFTER_S ask each announcer for what is
        still unseen. Every announcer of an unseen transaction is asked, so one lost link does not
        lose it: up to n-1 copies then, as the push always sent."""
        unseen = [h for h in hashes[:MAX_ANNOUNCED_HASHES] if len(h) == HASH_BYTES and not self._seen(h)]
        room = MAX_PULLS_WAITING - len(self._unseen)
        if not unseen or room <= 0:
            return
        loop = asyncio.get_running_loop()
        if not self._unseen:
            loop.call_later(PULL_AFTER_S, self._pull_unseen)
        now = loop.time()
        self._unseen.extend((now, sender, h) for h in unseen[:room])

    def _pull_unseen(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() - PULL_AFTER_S
        wanted: dict[int, list[bytes]] = {}
        while self._unseen and self._unseen[0][0] <= due:
            _, sender, h = self._unseen.popleft()
            if not self._seen(h):
                wanted.setdefault(sender, []).append(h)
        if self._unseen:
            loop.call_at(self._unseen[0][0] + PULL_AFTER_S, self._pull_unseen)
        for sender, hashes in wanted.items():
            self.metrics.txs_pulled.inc(len(hashes))
            self._send_to(sender, peer_pb2.PeerMessage(want=peer_pb2.TxWant(tx_hashes=hashes)))

    def _on_want(self, sender: int, hashes: list[bytes]) -> None:
        """Send a peer the wanted transactions still in the mempool (one committed meanwhile
        reaches it in its block)."""
        batch: list[bytes] = []
        size = 0
        for h in hashes[:MAX_ANNOUNCED_HASHES]:
            raw = self.mempool.get(h)
            if raw is None:
                continue
            if batch and size + len(raw) > MAX_GOSSIP_BYTES:
                self._send_to(sender, peer_pb2.PeerMessage(txs=peer_pb2.TxGossip(txs=batch)))
                batch, size = [], 0
            batch.append(raw)
            size += len(raw)
        if batch:
            self._send_to(sender, peer_pb2.PeerMessage(txs=peer_pb2.TxGossip(txs=batch)))

    # ------------------------------------------------------------------ peers

    def on_peer_message(self, sender: int, message: peer_pb2.PeerMessage) -> None:
        kind = message.WhichOneof("kind")
        try:
            if kind == "proposal":
                event: Event = proposal_from_wire(message.proposal)
            elif kind == "vote":
                event = vote_from_wire(message.vote)
            elif kind == "status":
                self.peer_heights[sender] = message.status.height
                if message.status.stuck and message.status.height == self.store.height:
                    self._resend_own(sender)
                return
            elif kind == "txs":
                self.spawn(self._take_gossip(list(message.txs.txs)))
                return
            elif kind == "announce":
                self._on_announce(sender, list(message.announce.tx_hashes))
                return
            elif kind == "want":
                self._on_want(sender, list(message.want.tx_hashes))
                return
            else:
                self.metrics.invalid_messages.labels(reason=f"unexpected_{kind}").inc()
                return
        except DecodeError:
            self.metrics.invalid_messages.labels(reason="undecodable").inc()
            return
        if self._events.qsize() >= MAX_PENDING_EVENTS:
            self.metrics.invalid_messages.labels(reason="event_queue_full").inc()
            return
        self._feed(event)

    def _resend_own(self, peer: int) -> None:
        outbox = self.outboxes.get(peer)
        if outbox is None:
            return
        now = time.monotonic()
        if now - self._resent_at.get(peer, -RESEND_MIN_INTERVAL_S) < RESEND_MIN_INTERVAL_S:
            self.metrics.invalid_messages.labels(reason="resend_too_soon").inc()
            return
        self._resent_at[peer] = now
        for message in self.own_messages:
            if outbox.full():
                return
            outbox.put_nowait(message)

    async def watch_progress(self) -> None:
        """Every STUCK_AFTER_S without a commit, ask peers at this height to send their messages
        for it again: consensus assumes every message eventually arrives, and a link that dropped
        (or a buffer that overflowed) would otherwise lose some for good."""
        last = self.store.height
        while True:
            await asyncio.sleep(STUCK_AFTER_S)
            height = self.store.height
            if height == last:
                status = peer_pb2.PeerStatus(height=height, round=self.consensus.round, stuck=True)
                self.send_to_peers(peer_pb2.PeerMessage(status=status))
            last = height

    async def _take_gossip(self, txs: list[bytes]) -> None:
        await self.submit_many(txs, from_peer=True)  # those the full mempool refused are dropped

    def feed_decided(
        self, certificate: ledger_pb2.CommitCertificate, block: ledger_pb2.Block, verified: Iterable[bytes]
    ) -> None:
        """A block certified elsewhere; `verified` are its transactions whose results are certified."""
        for h in verified:
            self._remember_verified(h)
        self._feed(Decided(certificate_from_wire(certificate), canonical(block)))
        self.metrics.catchup_blocks.inc()
