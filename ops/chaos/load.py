"""A steady ballot load through the gateway, with the SDK, in its own thread and asyncio loop.

Each ballot is built and signed here (so its hash is known even when the gateway dies mid-call),
cast and followed until its certified receipt or the deadline by ops.cluster.casting. A cast that
fails because the gateway is down is retried with the same bytes, as a real client would.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Final

from ops.chaos.election import LiveElection, choice, credential
from ops.cluster.casting import Pacer, ReceiptWait, Retry, cast_one, run_load
from proto.votestore.v1 import ledger_pb2
from votestore import txbuild
from votestore.client.gateway_client import GatewayClient

CAST_RETRY: Final = Retry(
    frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN", "INTERNAL"}), pause_s=0.5
)
"""Answers that say the gateway could not serve now (down, restarting), not that it refused:
cast again with the same bytes every 0.5 s until the ballot's deadline."""
RECEIPT: Final = ReceiptWait(deadline_s=120.0, call_s=20.0, final=True)
"""From the first cast of a ballot until its certified receipt must be in hand."""
MAX_CONCURRENCY: Final = 64


@dataclass(frozen=True, slots=True)
class Attempt:
    voter: int
    tx_hash: bytes
    outcome: str
    """'receipt' (result certified), 'uncertified-receipt' (committed, but the next block was not
    seen by the deadline), 'refused:<STATUS>', 'rejected' (in a block), or 'no-receipt'. A cast
    answered ALREADY_EXISTS (a retry after the first landed) is followed by its hash."""
    receipt: ledger_pb2.Receipt | None
    cast_at_s: float
    done_at_s: float


class BallotLoad:
    """`start()`, later `stop()` → every attempt, once each in-flight ballot is settled. The
    casting is ops.cluster.casting's, paced at `rate_per_s` with `concurrency` in flight."""

    def __init__(
        self, target: str, election: LiveElection, election_key: bytes, rate_per_s: float, concurrency: int
    ) -> None:
        assert rate_per_s > 0 and 1 <= concurrency <= MAX_CONCURRENCY, (rate_per_s, concurrency)
        self._target = target
        self._election = election
        self._key = election_key
        self._rate_per_s = rate_per_s
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
        async with GatewayClient(self._target) as client:

            async def one(voter: int, _due: float) -> Attempt:
                raw = await asyncio.to_thread(self._ballot, voter)
                landed = await cast_one(client, voter, raw, retry=CAST_RETRY, receipt=RECEIPT)
                outcome = landed.outcome.replace("receipt-failed:", "refused:")
                response = landed.response if landed.receipted else None
                receipt = None if response is None else response.receipt
                return Attempt(voter, landed.tracking_code, outcome, receipt, landed.started_s, landed.done_s)

            await run_load(
                range(self._election.voters),
                one,
                in_flight=self._concurrency,
                pacer=Pacer(self._rate_per_s, catch_up=False),
                stop=self._stop.is_set,
                on_done=self._attempts.append,
            )

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
