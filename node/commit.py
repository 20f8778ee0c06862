"""Commit: check what a decided block holds that this node has not checked, apply it, tell those
who wait.

A certified block that does not extend this node's chain means more than f faulty validators:
nothing safe remains to do but stop (an assertion) and say so.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Final

from election.app import BlockOutcome, ElectionApp
from election.policy import BlockContext
from election.stateless import ElectionParams
from node.clock import Clock
from node.consensus import Commit
from node.intake import Arrival, StatelessChecks
from node.ledger.store import Store
from node.ledger.tip import check_child
from node.metrics import NodeMetrics
from node.pending import PendingTxs
from node.proposer import BlockValidity
from node.wire import certificate_to_wire
from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.encoding import tx_hash
from votestore.genesis import Genesis

log = logging.getLogger("votestore.node")

PROGRESS_EVERY_S: Final = 60.0
"""One INFO line for the blocks committed in this long (each block is a DEBUG line): a block a
second is 86,400 INFO lines a day otherwise."""


class Committer:
    """`applied(height, block)` hears of each block applied, after the store holds it."""

    def __init__(
        self,
        *,
        genesis: Genesis,
        store: Store,
        app: ElectionApp,
        pending: PendingTxs,
        checks: StatelessChecks,
        validity: BlockValidity,
        clock: Clock,
        metrics: NodeMetrics,
        params: Callable[[Arrival], ElectionParams | None],
        cheap_refusal: Callable[[Arrival], election_pb2.TxResult | None],
        applied: Callable[[int, ledger_pb2.Block], None],
    ) -> None:
        self._genesis = genesis
        self._store = store
        self._app = app
        self._pending = pending
        self._checks = checks
        self._validity = validity
        self._clock = clock
        self._metrics = metrics
        self._params = params
        self._cheap_refusal = cheap_refusal
        self._applied = applied
        self._committed = asyncio.Event()  # set and replaced at each commit
        self._height_started = clock.now()
        self._progress_at = self._height_started
        self._blocks_since = 0
        self._txs_since = 0

    async def commit(self, action: Commit) -> None:
        """Check and apply a decided block; the block is parsed and its transactions hashed once
        for both."""
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
        tip = self._store.tip
        assert height == tip.height + 1, (height, tip.height)
        if not self._validity.passed(tip.block_id, payload):
            check_child(self._genesis, tip, block)
        pending = self._pending
        outcome = self._app.execute_block(
            BlockContext(height, block.header.time_ms),
            block.txs,
            pending.verified,
            pending.tally_points,
            hashes,
            pending.decoded,
        )
        self._store.commit_block(
            block, certificate, outcome.results, outcome.app_hash, outcome.writes, hashes
        )
        self._app.commit(outcome)
        pending.applied(hashes)
        self._record(height, outcome, tip.time_ms, block.header.time_ms)
        self._applied(height, block)
        committed, self._committed = self._committed, asyncio.Event()
        committed.set()

    async def _verify_block(self, block: ledger_pb2.Block, hashes: list[bytes]) -> None:
        """Check a decided block's transactions this validator has not checked yet on the pool,
        ahead of its queue, joining checks already running: without this, `execute_block`
        re-verified them in the loop while the pool was verifying the same ones (a validator
        that lags behind the f+1 that took a ballot first meets most of a block this way)."""
        pending = self._pending
        unverified = [
            Arrival.of(h, raw) for h, raw in zip(hashes, block.txs, strict=True) if not pending.is_verified(h)
        ]
        # one its state checks refuse is refused by execution too, before its proofs
        missing = [arrival for arrival in unverified if self._cheap_refusal(arrival) is None]
        if not missing:
            return
        for arrival in missing:
            pending.keep_for_block(arrival)  # forgotten once the block is applied
        results = await self._checks.check([(a, self._params(a)) for a in missing], first=True)
        for arrival, checked in zip(missing, results, strict=True):
            if checked is not None and checked.result.code == election_pb2.OK:
                pending.remember_verified(arrival.tx_hash)
                pending.keep_points(arrival.tx_hash, checked.tally_points)

    def _record(self, height: int, outcome: BlockOutcome, parent_ms: int, time_ms: int) -> None:
        now = self._clock.now()
        if height > 1:
            self._metrics.block_interval.observe((time_ms - parent_ms) / 1000)
        self._metrics.commit_latency.observe(now - self._height_started)
        self._height_started = now
        self._metrics.height.set(height)
        self._metrics.mempool_txs.set(len(self._pending))
        self._metrics.mempool_bytes.set(self._pending.size_bytes)
        committed = Counter(zip(outcome.kinds, (result.code for result in outcome.results), strict=True))
        for (kind, code), count in committed.items():
            self._metrics.txs_committed.labels(kind=kind, result=election_pb2.ResultCode.Name(code)).inc(
                count
            )
        log.debug("event=commit height=%d txs=%d", height, len(outcome.results))
        self._blocks_since += 1
        self._txs_since += len(outcome.results)
        if now - self._progress_at >= PROGRESS_EVERY_S:
            log.info(
                "event=progress height=%d blocks=%d txs=%d seconds=%.0f",
                height,
                self._blocks_since,
                self._txs_since,
                now - self._progress_at,
            )
            self._progress_at, self._blocks_since, self._txs_since = now, 0, 0

    async def wait_for_height(self, height: int) -> None:
        while self._store.height < height:
            await self._committed.wait()
