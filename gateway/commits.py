"""Following the chain's height, to wake receipt waiters when a block commits.

The stream is only a wake-up hint: a waiter re-reads its receipt from the validators and checks the
proof, so a validator that streams lies can make waiters look early, never accept a false receipt.
Waits are bounded, so a stream that stalls degrades to polling, not to a hang.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from gateway.validators import ValidatorPool
from proto.votestore.v1 import node_pb2

log = logging.getLogger("votestore.gateway.commits")

STATUS_TIMEOUT_S: Final = 2.0
MAX_TRACKED_TXS: Final = 200_000
"""Recently committed transaction hashes remembered (about 6 MB), to wake only their waiters."""
RESUBSCRIBE_BACKOFF_S: Final = 0.5
"""Pause before following the next validator after a stream broke (all down: bounded spin)."""


class CommitWatcher:
    """The highest committed height any followed validator reported; waiters await a rise."""

    def __init__(self, pool: ValidatorPool) -> None:
        self._pool = pool
        self._height = 0
        self._risen = asyncio.Condition()
        self._committed: OrderedDict[bytes, int] = OrderedDict()
        self.following = 0
        """The validator whose commit stream is followed (or about to be): it holds `height`."""

    @property
    def height(self) -> int:
        return self._height

    def committed_height(self, tx_hash: bytes) -> int | None:
        """The height a followed validator said the transaction committed at, if seen lately."""
        return self._committed.get(tx_hash)

    def _note(self, event: node_pb2.CommitEvent) -> None:
        for h in event.tx_hashes:
            self._committed[h] = event.height
        while len(self._committed) > MAX_TRACKED_TXS:
            self._committed.popitem(last=False)

    async def _advance(self, height: int) -> None:
        if height > self._height:
            async with self._risen:
                self._height = height
                self._risen.notify_all()

    async def wait_beyond(self, height: int, timeout_s: float) -> bool:
        """True once a height above `height` is seen; False after `timeout_s`."""
        try:
            async with asyncio.timeout(max(0.0, timeout_s)), self._risen:
                await self._risen.wait_for(lambda: self._height > height)
        except TimeoutError:
            return False
        return True

    async def _follow(self, index: int) -> None:
        stub = self._pool.stubs[index]
        status = await stub.GetStatus(node_pb2.GetStatusRequest(), timeout=STATUS_TIMEOUT_S)
        await self._advance(status.height)
        stream = stub.WatchCommits(node_pb2.WatchCommitsRequest(from_height=self._height + 1))
        async for event in stream:
            self._note(event)
            await self._advance(event.height)

    async def run(self) -> None:
        """Follow one validator at a time, moving to the next when its stream ends or fails."""
        index = 0
        while True:
            self.following = index
            try:
                await self._follow(index)
            except grpc.aio.AioRpcError as exc:
                log.info("event=watch_broken validator=%d status=%s", index, exc.code().name)
            index = (index + 1) % self._pool.n
            await asyncio.sleep(RESUBSCRIBE_BACKOFF_S)
