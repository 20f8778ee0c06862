"""The paper's getValue() and valid(v): building this node's block, and judging a proposed one.

`BlockValidity` is built before the consensus core (it is the core's `valid`); `Proposer`
after it, as it answers the core's `RequestProposal` with `ProposalValue`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.message import DecodeError as ProtobufDecodeError

from node.clock import Clock, Timer
from node.consensus import Event, ProposalValue
from node.evidence import committed_evidence
from node.ledger.store import Store
from node.ledger.tip import check_child
from node.pending import PendingTxs
from node.readiness import ReadyVotes
from proto.votestore.v1 import ledger_pb2
from votestore.blocks import (
    BlockInvalid,
    check_body,
    check_ready,
    evidence_root,
    readiness,
    ready_root,
    tx_root,
)
from votestore.encoding import block_id, canonical
from votestore.evidence import check_block_evidence
from votestore.genesis import Genesis

log = logging.getLogger("votestore.node")


def parse_identified(identity: bytes, payload: bytes) -> ledger_pb2.Block | None:
    """The block `identity` names, if `payload` is exactly its canonical encoding, body
    included (a relayed copy with the proposer's header and other transactions is not); else
    None."""
    block = ledger_pb2.Block()
    try:
        block.ParseFromString(payload)
    except ProtobufDecodeError:
        return None
    if block_id(block.header) != identity or canonical(block) != payload:
        return None
    try:
        check_body(block)
    except BlockInvalid:
        return None
    return block


def built_by(identity: bytes, payload: bytes) -> int | None:
    """The leader rule's reading of a block: who built it (BuiltBy in node/consensus)."""
    block = parse_identified(identity, payload)
    return None if block is None else block.header.proposer


def ready_in(identity: bytes, payload: bytes) -> frozenset[tuple[int, int]]:
    """The leader rule's other reading of a decided block: its readiness votes, as (validator,
    height of the vote) (ReadyIn in node/consensus; valid(v) checked them before the block was
    decided)."""
    block = parse_identified(identity, payload)
    return frozenset() if block is None else readiness(block)


class BlockValidity:
    """valid(v): a proposed block extends this node's tip by the rules, names a builder the
    proposal may carry (`builders`: the proposer for a fresh value, the proposers of rounds up to
    validRound for a re-proposal) and is not from the future; its evidence proves double votes
    inside the window that no earlier block committed (`committed_evidence`, moved on by the
    shell's evidence pool at each commit). It remembers the last payload it passed, so
    committing those very bytes on that same tip need not check the header again (`passed`)."""

    def __init__(self, *, genesis: Genesis, store: Store, block_max_bytes: int, clock: Clock) -> None:
        self._genesis = genesis
        self._store = store
        self._block_max_bytes = block_max_bytes
        self._clock = clock
        self._validator_keys = genesis.validator_keys()
        self._valid_child: tuple[bytes, bytes] | None = None  # (tip's id, payload) passed last
        self.committed_evidence = committed_evidence(store)

    def __call__(self, height: int, builders: frozenset[int], identity: bytes, payload: bytes) -> bool:
        tip = self._store.tip
        if height != tip.height + 1 or len(payload) > self.max_payload_bytes:
            return False
        block = parse_identified(identity, payload)
        if block is None:
            return False
        if block.header.proposer not in builders:
            log.info("event=invalid_proposal height=%d why=header_proposer", height)
            return False
        try:
            check_child(self._genesis, tip, block)
            check_block_evidence(
                self._genesis.chain_id, self._validator_keys, height, block.evidence, self.committed_evidence
            )
            check_ready(self._genesis.chain_id, self._validator_keys, height, block.ready)
        except BlockInvalid as exc:
            log.info("event=invalid_proposal height=%d why=%s", height, exc)
            return False
        if block.header.time_ms > self._clock.wall_ms() + self._genesis.max_clock_drift_ms:
            log.info("event=invalid_proposal height=%d why=time_ahead", height)
            return False
        self._valid_child = (tip.block_id, payload)
        return True

    @property
    def max_payload_bytes(self) -> int:
        """A proposal's payload bound: a block of block_max_bytes of transactions, with room for
        its header, evidence and readiness votes. The core refuses larger ones on arrival."""
        return self._block_max_bytes * 2

    def passed(self, tip_id: bytes, payload: bytes) -> bool:
        """Whether the last block this passed was `payload` on the tip `tip_id`."""
        return self._valid_child == (tip_id, payload)


class Proposer:
    """getValue(): the oldest pending transactions, or an empty block after a while — at once if
    the last block held transactions: their results count only once the next header certifies
    them, so every receipt of that block waits for this one. `evidence(height)`: the double
    votes block `height` carries (EvidencePool.for_block)."""

    def __init__(
        self,
        *,
        genesis: Genesis,
        index: int,
        store: Store,
        pending: PendingTxs,
        ready: ReadyVotes,
        evidence: Callable[[int], list[ledger_pb2.Evidence]],
        clock: Clock,
        empty_block_interval_s: float,
        batch_wait_s: float,
        block_max_txs: int,
        block_max_bytes: int,
        position: Callable[[], tuple[int, int]],
        feed: Callable[[Event], None],
    ) -> None:
        self._genesis = genesis
        self._index = index
        self._store = store
        self._pending = pending
        self._ready = ready
        self._evidence = evidence
        self._skipped: dict[tuple[int, int], frozenset[int]] = {}
        self._clock = clock
        self._empty_block_interval_s = empty_block_interval_s
        self._batch_wait_s = batch_wait_s
        self._block_max_txs = block_max_txs
        self._block_max_bytes = block_max_bytes
        self._position = position
        self._feed = feed
        self._waiting: dict[tuple[int, int], Timer] = {}  # requests waiting for a transaction
        self.results_pending = False
        """The last block held transactions the next header certifies."""

    def request(self, height: int, round_: int, skipped: frozenset[int] = frozenset()) -> None:
        """The core asks for a value for (height, round); the answer is fed to it later. The
        block carries a readiness vote of each `skipped` validator this node has one of."""
        self._skipped = {(height, round_): skipped}
        if not len(self._pending) and not self.results_pending:
            self._waiting[(height, round_)] = self._clock.call_later(
                self._empty_block_interval_s, lambda: self._gather(height, round_)
            )
        else:
            self._gather(height, round_)

    def tx_arrived(self) -> None:
        """The mempool grew: requests waiting for a transaction go on now."""
        waiting, self._waiting = self._waiting, {}
        for (height, round_), timer in waiting.items():
            timer.cancel()
            self._gather(height, round_)

    def stop(self) -> None:
        for timer in self._waiting.values():
            timer.cancel()
        self._waiting = {}

    def _gather(self, height: int, round_: int) -> None:
        self._waiting.pop((height, round_), None)
        if len(self._pending) < self._block_max_txs:  # let a burst gather into one block
            self._clock.call_later(self._batch_wait_s, lambda: self._build(height, round_))
        else:
            self._build(height, round_)

    def _build(self, height: int, round_: int) -> None:
        if self._position() != (height, round_):
            return
        tip = self._store.tip
        txs = self._pending.reap(self._block_max_txs, self._block_max_bytes)
        evidence = self._evidence(height)
        ready = self._ready.for_block(height, self._skipped.get((height, round_), frozenset()))
        header = ledger_pb2.BlockHeader(
            chain_id=self._genesis.chain_id,
            height=height,
            time_ms=max(self._clock.wall_ms(), tip.time_ms + 1),
            prev_block_hash=tip.block_id,
            tx_root=tx_root(txs),
            app_hash=tip.app_hash,
            results_hash=tip.results_hash,
            proposer=self._index,
            evidence_hash=evidence_root(evidence),
            ready_hash=ready_root(ready),
        )
        block = ledger_pb2.Block(header=header, txs=txs, evidence=evidence, ready=ready)
        self._feed(ProposalValue(height, round_, block_id(header), canonical(block)))
