"""Intake checks: signatures and proofs of arriving transactions, on the verify pool, once each.

The expensive half of a transaction's check needs no ledger state (`verify_tx_stateless`), so it
runs on worker processes in batches; the shell then judges the cheap stateful half in its loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from typing import Final, NamedTuple

from election.stateless import PROOF_KINDS, ElectionParams, verify_tx_stateless
from node.verify_pool import Answer, VerifyPool
from proto.votestore.v1 import election_pb2
from votestore.encoding import DecodedTx
from votestore.errors import DecodeError

log = logging.getLogger("votestore.node")

VERIFY_BATCH_TXS: Final = 32
"""Transactions per call to a verify worker at most (about 35 ms of ballots)."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """A transaction come in, decoded once for all the node does with it here: what routes its
    check (`kind`, the election whose parameters it needs), the mempool's note of a ballot's
    voter, and `check_tx` against committed state (`ElectionApp.check_decoded`). Nothing is
    checked yet; the check and `check_decoded` decide."""

    tx_hash: bytes
    raw: bytes
    decoded: DecodedTx | None
    """None if it does not decode (its stateless check then answers MALFORMED)."""

    @classmethod
    def of(cls, h: bytes, raw: bytes) -> Arrival:
        try:
            return cls(h, raw, DecodedTx.of(raw))
        except DecodeError:
            return cls(h, raw, None)

    @property
    def kind(self) -> str:
        """The body's kind, or "malformed"."""
        return "malformed" if self.decoded is None else self.decoded.kind

    @property
    def election_id(self) -> str:
        return "" if self.decoded is None else self.decoded.election_id

    @property
    def signer(self) -> bytes:
        return b"" if self.decoded is None else self.decoded.envelope.signer


class Checked(NamedTuple):
    """A stateless check's answer."""

    result: election_pb2.TxResult
    tally_points: bytes = b""
    """An OK ballot's points as the worker decoded them (`tally.handover`); else empty."""


class StatelessChecks:
    """Signature and proof checks on the verify pool, each transaction once, in batches.

    The gateway sends a ballot to every validator and each one gossips it on, so a validator
    often holds the same transaction from n senders while its check runs: they all await one
    check. Waiting transactions that commit meanwhile (a faster validator proposed them) are
    dropped before they cost a core; their waiters get None. At most workers + 1 batches are out,
    so a worker never idles while the next batch is pickled. (Below saturation that sends batches
    of one or two ballots, each a frame's worth of the node's CPU beside the worker's (~130 us on
    the ProcessPoolExecutor this pool replaced); holding them back 30 ms cut CPU per ballot at half
    of bench.cluster's peak by a fifth, but added ~50 ms to every answer and raised it at the peak.)
    """

    def __init__(self, chain_id: str, pool: VerifyPool | None, settled: Callable[[bytes], bool]) -> None:
        self._chain_id = chain_id
        self._pool = pool
        self._max_out = (pool.workers if pool is not None else 1) + 1
        self._settled = settled
        self._waiting: dict[bytes, tuple[bytes, ElectionParams | None]] = {}  # arrival order
        self._futures: dict[bytes, asyncio.Future[Checked | None]] = {}
        self._out = 0
        self._dispatch_soon = False

    async def check(
        self, items: Sequence[tuple[Arrival, ElectionParams | None]], *, first: bool = False
    ) -> list[Checked | None]:
        """The stateless result of each (transaction, params), in order: None for one committed
        before its turn came. With `first`, ahead of every waiting check and sent at once (a
        decided block waits for them); else at the end of this loop turn, so the transactions of
        concurrent calls share a pool call. One wait for all: no task, shield and future per
        transaction in the loop (~20 us a ballot for SubmitTxBatch's gather)."""
        pending = {a.tx_hash: self._enqueue(a, params) for a, params in items if not self._inline(a)}
        if first:
            front = {h: self._waiting.pop(h) for h in pending if h in self._waiting}
            self._waiting = {**front, **self._waiting}
            self._dispatch()
        elif pending and not self._dispatch_soon:
            self._dispatch_soon = True
            asyncio.get_running_loop().call_soon(self._dispatch_now)
        if pending:
            # wait() cancels nothing when its caller goes (a client hung up): others may await
            # the same checks
            await asyncio.wait(set(pending.values()))
        return [
            pending[a.tx_hash].result() if a.tx_hash in pending else self._check_here(a.raw, params)
            for a, params in items
        ]

    def _dispatch_now(self) -> None:
        self._dispatch_soon = False
        self._dispatch()

    def _check_here(self, raw: bytes, params: ElectionParams | None) -> Checked:
        return Checked(verify_tx_stateless(self._chain_id, raw, params))

    def pending(self, h: bytes) -> bool:
        """True while a check of `h` waits or runs on the pool."""
        return h in self._futures

    def _inline(self, arrival: Arrival) -> bool:
        """Without proofs a check is one signature (~60 us): cheaper here than a trip to a worker."""
        return self._pool is None or arrival.kind not in PROOF_KINDS

    def _enqueue(self, arrival: Arrival, params: ElectionParams | None) -> asyncio.Future[Checked | None]:
        future = self._futures.get(arrival.tx_hash)
        if future is None:
            future = self._futures[arrival.tx_hash] = asyncio.get_running_loop().create_future()
            self._waiting[arrival.tx_hash] = (arrival.raw, params)
        return future

    def _dispatch(self) -> None:
        while self._out < self._max_out and self._waiting:
            batch: list[bytes] = []
            for h in list(self._waiting):
                if len(batch) == VERIFY_BATCH_TXS:
                    break
                if self._settled(h):
                    del self._waiting[h]
                    self._futures.pop(h).set_result(None)
                    continue
                batch.append(h)
            if not batch:
                return
            items = [self._waiting.pop(h) for h in batch]
            done = self._submit(items)
            if done is None:
                self._answer_here(batch, items)
                continue
            self._out += 1
            done.add_done_callback(functools.partial(self._finished, batch, items))

    def _submit(
        self, items: list[tuple[bytes, ElectionParams | None]]
    ) -> asyncio.Future[list[Answer]] | None:
        """The pool's answer to come, or None when there is no pool (any more) to ask."""
        if self._pool is None:  # lost while these waited
            return None
        try:
            return self._pool.submit(items)
        except BrokenExecutor as exc:
            self._lose_pool(exc)
            return None

    def _finished(
        self,
        hashes: list[bytes],
        items: list[tuple[bytes, ElectionParams | None]],
        done: asyncio.Future[list[Answer]],
    ) -> None:
        self._out -= 1
        assert self._out >= 0
        error = None if done.cancelled() else done.exception()
        if isinstance(error, BrokenExecutor):
            self._lose_pool(error)
            self._answer_here(hashes, items)
        else:
            for at, h in enumerate(hashes):
                future = self._futures.pop(h)
                if done.cancelled():  # the loop is shutting down
                    future.cancel()
                elif error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(Checked(*done.result()[at]))
        self._dispatch()

    def _lose_pool(self, error: BaseException) -> None:
        """A worker died: check in the loop from now on (slower, but the node keeps taking
        ballots); restarting the node brings the workers back."""
        if self._pool is not None:
            log.error("event=verify_pool_broken why=%s checks=in_loop", error)
            self._pool = None
            self._max_out = 2

    def _answer_here(self, hashes: list[bytes], items: list[tuple[bytes, ElectionParams | None]]) -> None:
        for h, (raw, params) in zip(hashes, items, strict=True):
            self._futures.pop(h).set_result(self._check_here(raw, params))
