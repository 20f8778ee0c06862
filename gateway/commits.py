"""Following the chain's height, to fetch receipts when a block commits.

The stream is only a hint: receipts are read from the validators and their proofs checked, so a
validator that streams lies can make the gateway ask early, never accept a false receipt. Receipt
waits are bounded, so a stream that stalls degrades to polling, not to a hang.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
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


Listener = Callable[[int, int], None]
"""Called with (height, validator) each time the height rises: that validator holds it."""


class CommitWatcher:
    """The highest committed height any followed validator reported; listeners hear each rise."""

    def __init__(self, pool: ValidatorPool) -> None:
        self._pool = pool
        self._height = 0
        self._listeners: list[Listener] = []
        self._committed: OrderedDict[bytes, int] = OrderedDict()
        self.following = 0
        """The validator whose commit stream is followed (or about to be): it holds `height`."""

    def on_rise(self, listener: Listener) -> None:
        self._listeners.append(listener)

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

    def _advance(self, height: int, index: int) -> None:
        if height > self._height:
            self._height = height
            for listener in self._listeners:
                listener(height, index)

    async def _follow(self, index: int) -> None:
        stub = self._pool.stubs[index]
        status = await stub.GetStatus(node_pb2.GetStatusRequest(), timeout=STATUS_TIMEOUT_S)
        self._advance(status.height, index)
        stream = stub.WatchCommits(node_pb2.WatchCommitsRequest(from_height=self._height + 1))
        async for event in stream:
            self._note(event)
            self._advance(event.height, index)

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
