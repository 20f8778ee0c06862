"""A steady ballot load through the gateway, with the SDK, in its own thread and asyncio loop.

Each ballot is built and signed here (so its hash is known even when the gateway dies mid-call),
cast with `cast_signed`, and followed with `wait_receipt` until COMMITTED or the deadline. A cast
that fails because the gateway is down is retried with the same bytes, as a real client would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from ops.chaos.election import LiveElection, choice, credential
from proto.votestore.v1 import gateway_pb2, ledger_pb2
from votestore import txbuild
from votestore.client.gateway_client import GatewayClient, GatewayError
from votestore.encoding import tx_hash

RETRY_STATUSES: Final = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN", "INTERNAL"})
"""Answers that say the gateway could not serve now (down, restarting), not that it refused."""
RETRY_PAUSE_S: Final = 0.5
RECEIPT_DEADLINE_S: Final = 120.0
"""From the first cast of a ballot until its receipt must be in hand."""
WAIT_CALL_S: Final = 20.0
MAX_CONCURRENCY: Final = 64


@dataclass(frozen=True, slots=True)
class Attempt:
    voter: int
    tx_hash: bytes
    outcome: str
    """'receipt' (result certified), 'uncertified-receipt' (committed, but the next block was not
    seen by the deadline), 'refused:<STATUS>', 'rejected' (in a block), or 'no-receipt'."""
    receipt: ledger_pb2.Receipt | None
    cast_at_s: float
    done_at_s: float


class BallotLoad:
    """`start()`, later `stop()` → every attempt, once each in-flight ballot is settled."""

    def __init__(
        self, target: str, election: LiveElection, election_key: bytes, rate_per_s: float, concurrency: int
    ) -> None:
        assert rate_per_s > 0 and 1 <= concurrency <= MAX_CONCURRENCY, (rate_per_s, concurrency)
        self._target = target
        self._election = election
        self._key = election_key
        self._interval_s = 1.0 / rate_per_s
        self._concurrency = concurrency
        self._stop = threading.Event()
        self._attempts: list[Attempt] = []
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="chaos-load")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Attempt]:
        self._stop.set()
        self._thread.join()
        return self._attempts

    async def _main(self) -> None:
        voters = iter(range(self._election.voters))
        next_slot = [time.monotonic()]
        async with GatewayClient(self._target) as client:
            workers = [self._worker(client, voters, next_slot) for _ in range(self._concurrency)]
            await asyncio.gather(*workers)

    async def _worker(self, client: GatewayClient, voters: Iterator[int], next_slot: list[float]) -> None:
        while not self._stop.is_set():
            voter = next(voters, None)
            if voter is None:
                return
            slot = next_slot[0] = max(next_slot[0] + self._interval_s, time.monotonic())
            await asyncio.sleep(max(0.0, slot - time.monotonic()))
            self._attempts.append(await self._one(client, voter))

    def _ballot(self, voter: int) -> bytes:
        e = self._election
        return txbuild.ballot(
            e.chain_id,
            e.election_id,
            e.definition,
            self._key,
            credential(voter),
            [[choice(voter)]],
            e.roles.attester(e.chain_id, e.election_id),
        )

    async def _one(self, client: GatewayClient, voter: int) -> Attempt:
        raw = await asyncio.to_thread(self._ballot, voter)
        hash_ = tx_hash(raw)
        started = time.monotonic()
        deadline = started + RECEIPT_DEADLINE_S

        def attempt(outcome: str, receipt: ledger_pb2.Receipt | None = None) -> Attempt:
            return Attempt(voter, hash_, outcome, receipt, started, time.monotonic())

        cast = False
        last: ledger_pb2.Receipt | None = None
        while time.monotonic() < deadline:
            try:
                if not cast:
                    await client.cast_signed(raw)
                    cast = True
                wait_s = min(WAIT_CALL_S, max(0.1, deadline - time.monotonic()))
                answer = await client.wait_receipt(hash_, wait_s)
            except GatewayError as exc:
                if exc.status not in RETRY_STATUSES:
                    return attempt(f"refused:{exc.status}")
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if answer.status == gateway_pb2.COMMITTED:
                last = answer.receipt
                if answer.receipt.proof.HasField("next_header"):
                    return attempt("receipt", last)
            if answer.status == gateway_pb2.REJECTED:
                return attempt("rejected")
        return attempt("no-receipt") if last is None else attempt("uncertified-receipt", last)
