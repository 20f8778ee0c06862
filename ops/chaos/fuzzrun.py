"""The fuzz run: a live 4-node cluster with an open election and a gateway, the Node and Gateway
services fed seeded hostile input, then resource probes (oversized messages, many streams) and the
checks that every process lives and nothing was recorded. Shared by tests/fuzz and bench/fuzz.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import grpc
import grpc.aio

from ops.chaos.cluster import DECODE_TRACEBACK, ChaosNet
from ops.chaos.election import ELECTION_ID, open_election
from ops.chaos.fuzz import FuzzStats, Inputs, campaign, methods
from ops.chaos.run import choose_fabric
from proto.votestore.v1 import gateway_pb2, node_pb2, node_pb2_grpc
from votestore.client.node import NodeClient
from votestore.limits import FUZZ_SEND_BYTES, NODE_MESSAGE_BYTES, OVERSIZED_BYTES, message_options

VOTERS: Final = 20
NODE_STREAMS: Final = 1000
GATEWAY_STREAMS: Final = 1100
"""The gateway serves at most 1000 calls at once (gateway.server.MAX_CONCURRENT_RPCS)."""
STREAM_HOLD_S: Final = 3.0
STREAMS_PER_CONNECTION: Final = 100
"""A hostile client opens many connections: HTTP/2 may cap the streams of one."""
REFUSED: Final = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE"})
BLOCKS_TIMEOUT_S: Final = 60.0


@dataclass
class FuzzReport:
    seed: int
    mode: str = ""
    node: FuzzStats = field(default_factory=FuzzStats)
    gateway: FuzzStats = field(default_factory=FuzzStats)
    oversized: dict[str, str] = field(default_factory=dict)
    streams: dict[str, Counter[str]] = field(default_factory=dict)
    rss_bytes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Node 0's high-water RSS before the streams probe and after everything."""
    blocks_checked: int = 0
    decode_tracebacks: int = 0
    """Tracebacks grpc logged for requests it could not parse (one per such request)."""
    findings: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    """Defects already reported (docs/chaos.md), reproduced by tests marked chaos_known_failure."""

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def undecodable_unknown(self) -> int:
        return self.node.undecodable_unknown + self.gateway.undecodable_unknown

    @property
    def refused_streams(self) -> dict[str, int]:
        return {name: sum(seen[s] for s in REFUSED) for name, seen in self.streams.items()}

    def lines(self) -> list[str]:
        out = [f"fuzz seed={self.seed} mode={self.mode}"]
        for name, stats in (("node", self.node), ("gateway", self.gateway)):
            rate = stats.inputs / stats.seconds if stats.seconds else 0.0
            statuses = " ".join(f"{k}={n}" for k, n in sorted(stats.statuses.items()))
            out.append(f"{name}: inputs={stats.inputs} in {stats.seconds:.0f}s ({rate:.0f}/s) {statuses}")
        out.append("oversized: " + " ".join(f"{k}={v}" for k, v in sorted(self.oversized.items())))
        for name, seen in sorted(self.streams.items()):
            out.append(f"streams {name}: " + " ".join(f"{k}={n}" for k, n in sorted(seen.items())))
        for name, (before, after) in sorted(self.rss_bytes.items()):
            out.append(
                f"peak rss {name}: {before / 2**20:.0f}MiB before streams, {after / 2**20:.0f}MiB after"
            )
        internal = (self.node.by_method + self.gateway.by_method).items()
        odd = sorted(f"{path}={n}" for (path, status), n in internal if status == "INTERNAL")
        out.append("INTERNAL answers: " + (" ".join(odd) or "none"))
        out.append(
            f"undecodable requests answered UNKNOWN: {self.undecodable_unknown}; "
            f"tracebacks logged for them: {self.decode_tracebacks}"
        )
        out.append(
            f"blocks checked empty of fuzz input: {self.blocks_checked}; crashes: "
            + str(sum(1 for f in self.findings if "died" in f))
        )
        out += [f"KNOWN {f}" for f in self.known]
        out += [f"FINDING {f}" for f in self.findings]
        out.append("PASS" if self.ok else f"FAIL — replay: .venv/bin/python bench/fuzz.py --seed {self.seed}")
        return out


def _alive(net: ChaosNet) -> Callable[[], bool]:
    def alive() -> bool:
        gateway_up = net.gateway_running()
        return gateway_up and all(p.poll() is None for p in net.processes.values())

    return alive


async def _oversized(target: str, path: str, field_name: str, request: type) -> str:
    options = message_options(receive=NODE_MESSAGE_BYTES, send=FUZZ_SEND_BYTES)
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        unary = channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        body = request(**{field_name: os.urandom(OVERSIZED_BYTES)}).SerializeToString()
        try:
            await unary(body, timeout=30.0)
        except grpc.aio.AioRpcError as exc:
            return str(exc.code().name)
    return "OK"


async def _many_streams(target: str, path: str, request: bytes, count: int) -> Counter[str]:
    """Open `count` calls at once on one channel, hold them STREAM_HOLD_S, then cancel the rest:
    how each ended ('held' for those still open at the end)."""
    seen: Counter[str] = Counter()
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(target, options=options) for _ in range(0, count, STREAMS_PER_CONNECTION)
    ]
    try:
        calls = [
            channels[i // STREAMS_PER_CONNECTION].unary_stream(
                path, request_serializer=lambda b: b, response_deserializer=lambda b: b
            )(request, timeout=STREAM_HOLD_S * 10)
            for i in range(count)
        ]

        async def drain(stream: grpc.aio.UnaryStreamCall[bytes, bytes]) -> None:
            try:
                async for _ in stream:
                    pass
                seen["OK"] += 1
            except grpc.aio.AioRpcError as exc:
                seen[str(exc.code().name)] += 1
            except asyncio.CancelledError:
                seen["held"] += 1

        tasks = [asyncio.ensure_future(drain(c)) for c in calls]
        await asyncio.sleep(STREAM_HOLD_S)
        for c in calls:
            c.cancel()
        await asyncio.gather(*tasks)
    finally:
        for channel in channels:
            await channel.close()
    return seen


def _nothing_recorded(net: ChaosNet, first: int, report: FuzzReport) -> None:
    with NodeClient(net.addresses) as node:
        state = node.election(ELECTION_ID)
        if state.ballots:
            report.findings.append(f"{state.ballots} ballots recorded during fuzzing")
        if node.list_elections() != [ELECTION_ID]:
            report.findings.append(f"elections now: {node.list_elections()}")
        last = node.status().height
    with grpc.insecure_channel(net.addresses[0], options=message_options(receive=NODE_MESSAGE_BYTES)) as ch:
        request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
        for committed in node_pb2_grpc.NodeStub(ch).GetBlocks(request, timeout=BLOCKS_TIMEOUT_S):
            report.blocks_checked += 1
            if committed.block.txs:
                report.findings.append(f"block {committed.block.header.height} holds fuzz-time transactions")


@dataclass(frozen=True, slots=True)
class Target:
    net: ChaosNet
    first_height: int
    """The first height committed after the election was set up: from here on, nothing."""
    mode: str


@contextlib.contextmanager
def open_target(workdir: Path) -> Iterator[Target]:
    """A 4-node cluster with an open election (VOTERS on its roll, no ballot) and a gateway."""
    make_fabric, fallback = choose_fabric(True)
    net = ChaosNet.build(workdir, make_fabric)
    try:
        net.start_all()
        net.wait_ready()
        with NodeClient(net.addresses) as node:
            open_election(node, net.admin_key, VOTERS)
            first = node.status().height + 1
        net.start_gateway()
        yield Target(net, first, net.mode + (f" (fallback: {fallback})" if fallback else ""))
    finally:
        net.close()


def exercise(target: Target, seed: int, inputs: int, log: Callable[[str], None] = print) -> FuzzReport:
    """`inputs` calls split between Node (node 0) and Gateway, the resource probes, and the check
    that nothing was recorded. Log tracebacks are read by `judge_logs` once the processes are gone."""
    net = target.net
    report = FuzzReport(seed, target.mode)
    log(f"fuzz seed={seed} inputs={inputs} mode={report.mode}")
    alive = _alive(net)
    node_methods = methods(node_pb2.DESCRIPTOR.services_by_name["Node"])
    gateway_methods = methods(gateway_pb2.DESCRIPTOR.services_by_name["Gateway"])
    report.node = asyncio.run(campaign(net.addresses[0], node_methods, Inputs(seed), inputs // 2, alive))
    report.gateway = asyncio.run(
        campaign(net.gateway_target, gateway_methods, Inputs(seed + 1), inputs - inputs // 2, alive)
    )
    report.findings += report.node.findings + report.gateway.findings
    report.oversized = {
        "node.SubmitTx": asyncio.run(
            _oversized(net.addresses[0], "/votestore.v1.Node/SubmitTx", "tx", node_pb2.SubmitTxRequest)
        ),
        "gateway.CastBallot": asyncio.run(
            _oversized(
                net.gateway_target, "/votestore.v1.Gateway/CastBallot", "tx", gateway_pb2.CastBallotRequest
            )
        ),
    }
    for name, status in report.oversized.items():
        if status not in REFUSED:
            report.findings.append(f"oversized message to {name} answered {status}")
    before = net.peak_rss().get(0, 0)
    watch = node_pb2.WatchCommitsRequest().SerializeToString()
    report.streams["node.WatchCommits"] = asyncio.run(
        _many_streams(net.addresses[0], "/votestore.v1.Node/WatchCommits", watch, NODE_STREAMS)
    )
    wait = gateway_pb2.WaitReceiptRequest(tracking_code=b"\x01" * 32, timeout_ms=60_000)
    report.streams["gateway.WaitReceipt"] = asyncio.run(
        _many_streams(
            net.gateway_target, "/votestore.v1.Gateway/WaitReceipt", wait.SerializeToString(), GATEWAY_STREAMS
        )
    )
    report.rss_bytes["node0"] = (before, net.peak_rss().get(0, 0))
    for name, refused in report.refused_streams.items():
        if not refused:
            report.known.append(
                f"{name}: none of {report.streams[name].total()} simultaneous calls was refused"
            )
    if not alive():
        report.findings.append("a process died during the resource probes")
    _nothing_recorded(net, target.first_height, report)
    return report


def judge_logs(net: ChaosNet, report: FuzzReport) -> None:
    """After the processes stopped: grpc's tracebacks for unparsable requests are counted (known);
    any other traceback is a finding."""
    for name, kinds in net.tracebacks().items():
        report.decode_tracebacks += kinds[DECODE_TRACEBACK]
        if kinds.total() > kinds[DECODE_TRACEBACK]:
            report.findings.append(f"{name} holds {kinds.total() - kinds[DECODE_TRACEBACK]} other tracebacks")
    if report.undecodable_unknown:
        report.known.append(
            f"{report.undecodable_unknown} undecodable requests answered UNKNOWN (not INVALID_ARGUMENT), "
            f"{report.decode_tracebacks} tracebacks logged for them"
        )


def run_fuzz(workdir: Path, seed: int, inputs: int, log: Callable[[str], None] = print) -> FuzzReport:
    with open_target(workdir) as target:
        report = exercise(target, seed, inputs, log)
    judge_logs(target.net, report)
    return report
