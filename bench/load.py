"""The cluster benchmarks' load: ballots cast through a gateway and followed to their final
receipts, in a closed-loop peak phase and an open-loop steady phase, with the committed count and
the CPU of each process measured over each phase's steady part. Used by bench.cluster,
bench.one_down and bench.gateway_loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import grpc.aio

from bench.common import CpuMeter, CpuWindow
from ops.cluster import LocalNet
from ops.cluster.casting import Background, Pacer, ReceiptWait, Retry, cast_one, follow, run_load
from proto.votestore.v1 import gateway_pb2, node_pb2, node_pb2_grpc
from votestore.client.gateway_client import GatewayClient
from votestore.client.receipts import check_receipt
from votestore.genesis import Genesis

ELECTION_ID: Final = "bench"

CONCURRENCY: Final = 64
"""Casts in flight in the peak phase: each waits for f+1 validators to verify it, so this many
keep every validator's intake busy."""
MAX_WAITING_RECEIPTS: Final = 600
"""Receipt waits in flight; below the gateway's MAX_CONCURRENT_RPCS (1000) so it never refuses."""
RECEIPT_WAIT: Final = ReceiptWait(deadline_s=60.0, call_s=60.0, final=False)
WARMUP_S: Final = 3.0
"""The first seconds of the peak phase are not counted: blocks and pools fill first."""
CAST_RETRY: Final = Retry(frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}), pause_s=0.05)
"""Cast again, every 50 ms, while the validators say 'not now'."""
NO_RETRY: Final = Retry(frozenset(), pause_s=0.0)
CHECKED_RECEIPTS: Final = 20
"""Receipts checked offline against genesis at the end (each a proof and two certificates)."""


@dataclass
class Phase:
    """What one timed phase saw: latencies of final receipts, refusals, the committed count."""

    name: str
    latencies_s: list[float] = field(default_factory=list)
    cast_s: list[float] = field(default_factory=list)
    """Until CastBallot answered (f+1 validators verified the ballot and hold it)."""
    refused: dict[str, int] = field(default_factory=dict)
    receipts: list[gateway_pb2.ReceiptResponse] = field(default_factory=list)
    committed: int = 0
    blocks: int = 0
    counted_s: float = 0.0
    cpu: CpuWindow | None = None
    short: int = 0
    """Casts the schedule wanted but the ballots built before timing had run out for."""

    @property
    def rate(self) -> float:
        return self.committed / self.counted_s if self.counted_s else 0.0

    def refuse(self, why: str) -> None:
        self.refused[why] = self.refused.get(why, 0) + 1


class Load:
    """The load generator: one gateway channel, one node channel to count committed ballots;
    the casting itself is ops.cluster.casting's."""

    def __init__(self, gateway: str, node_channel: grpc.aio.Channel) -> None:
        self.client = GatewayClient(gateway)
        self._node_channel = node_channel
        self._node: Any = node_pb2_grpc.NodeStub(self._node_channel)
        self._follows = Background(MAX_WAITING_RECEIPTS)

    async def close(self) -> None:
        await self.client.close()
        await self._node_channel.close()

    async def ballots_counted(self) -> tuple[int, int]:
        """(ballots committed, chain height) at validator 0."""
        request = node_pb2.GetElectionRequest(election_id=ELECTION_ID)
        state = await self._node.GetElection(request, timeout=10)
        status = await self._node.GetStatus(node_pb2.GetStatusRequest(), timeout=10)
        return int(state.ballots), int(status.height)

    async def send(self, phase: Phase, raw: bytes, since: float) -> None:
        """Cast (retrying while the validators say 'not now'), then follow to the receipt in the
        background; returns once the cast was taken or refused. `since`: the latency origin."""
        await self._follows.admit()
        landed = await cast_one(
            self.client,
            0,
            raw,
            retry=CAST_RETRY,
            receipt=None,
            started_s=since,
            on_retry=lambda status: phase.refuse(f"{status} (retried)"),
        )
        if landed.outcome != "cast":
            phase.refuse(landed.outcome.removeprefix("refused:"))
            self._follows.release()
            return
        assert landed.cast_s is not None
        phase.cast_s.append(landed.cast_s - since)
        self._follows.spawn(self._follow(phase, landed.tracking_code, since))

    async def _follow(self, phase: Phase, tracking_code: bytes, since: float) -> None:
        outcome, response, _ = await follow(
            self.client, tracking_code, RECEIPT_WAIT, NO_RETRY, deadline=since + RECEIPT_WAIT.deadline_s
        )
        if outcome == "receipt" and response is not None:
            phase.latencies_s.append(time.monotonic() - since)
            if len(phase.receipts) < CHECKED_RECEIPTS:
                phase.receipts.append(response)
        elif response is not None and outcome != "no-receipt":
            phase.refuse(f"receipt {gateway_pb2.ReceiptStatus.Name(response.status)}")
        else:
            phase.refuse(f"receipt {outcome}")

    async def drain(self) -> None:
        await self._follows.drain()

    async def counted(self, phase: Phase, meter_roots: dict[str, int], seconds: float) -> None:
        """Count committed ballots and CPU over `seconds` from now (the phase's steady part)."""
        (first, first_height), started = await self.ballots_counted(), time.perf_counter()
        meter = CpuMeter(meter_roots)
        await asyncio.sleep(seconds)
        phase.cpu = meter.stop()
        last, last_height = await self.ballots_counted()
        phase.committed, phase.blocks = last - first, last_height - first_height
        phase.counted_s = time.perf_counter() - started


async def peak(load: Load, txs: Iterator[bytes], seconds: float, roots: dict[str, int]) -> Phase:
    """Closed loop: CONCURRENCY casts in flight until `seconds` have passed."""
    phase = Phase("peak")
    deadline = time.monotonic() + seconds

    async def one(raw: bytes, due: float) -> None:
        await load.send(phase, raw, due)

    counter = asyncio.create_task(_after(WARMUP_S, load.counted(phase, roots, seconds - WARMUP_S)))
    await run_load(txs, one, in_flight=CONCURRENCY, stop=lambda: time.monotonic() >= deadline)
    await counter
    await load.drain()
    return phase


async def steady(
    load: Load, txs: Iterator[bytes], rate: float, seconds: float, roots: dict[str, int]
) -> Phase:
    """Open loop: cast i is due at start + i / rate, whether or not earlier ones are done."""
    phase = Phase(f"{rate:.0f}/s")
    count = int(rate * seconds)

    async def one(raw: bytes, due: float) -> None:
        await load.send(phase, raw, due)

    counter = asyncio.create_task(_after(WARMUP_S, load.counted(phase, roots, seconds - WARMUP_S)))
    sent = await run_load(
        (raw for _, raw in zip(range(count), txs, strict=False)), one, in_flight=None, pacer=Pacer(rate)
    )
    phase.short = count - len(sent)
    await counter
    await load.drain()
    return phase


async def _after(delay_s: float, then: Any) -> None:
    await asyncio.sleep(delay_s)
    await then


async def run_phases(
    gateway: str, net: LocalNet, txs: list[bytes], seconds: float, roots: dict[str, int]
) -> tuple[Phase, Phase]:
    load = Load(gateway, net.dialer.aio(0, net.addresses[0]))
    try:
        stream = iter(txs)
        top = await peak(load, stream, seconds, roots)
        half = await steady(load, stream, top.rate / 2, seconds, roots)
    finally:
        await load.close()
    return top, half


def check_receipts(genesis: Genesis, phases: tuple[Phase, Phase]) -> int:
    """Every kept receipt checks offline against genesis: the figures count real commits."""
    checked = 0
    for phase in phases:
        for response in phase.receipts:
            assert check_receipt(genesis, response.receipt, require_result=True).height > 0
            checked += 1
    return checked
