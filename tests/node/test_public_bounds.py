"""The public Node API bounded per client: WatchCommits streams capped in total and per address,
and a client stream that must end early answered with its status, never INTERNAL (issue 19).

Real node process, real gRPC on loopback."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import grpc
import pytest

from node.rpc.quota import MAX_WATCH_STREAMS_PER_CLIENT, StreamQuota, client_of
from ops.cluster import LocalNet
from proto.votestore.v1 import node_pb2

pytestmark = pytest.mark.cluster

WATCH = "/votestore.v1.Node/WatchCommits"
SUBMIT_STREAM = "/votestore.v1.Node/SubmitTxStream"
HOLD_S = 1.0
BIG_TX_BYTES = 300_000
CONCURRENCY = 32
ROUNDS = 24


def _same(data: bytes) -> bytes:
    return data


def test_client_of_drops_the_port() -> None:
    assert client_of("ipv4:10.0.0.7:51234") == "ipv4:10.0.0.7"
    assert client_of("ipv6:[::1]:5") == "ipv6:[::1]"
    assert client_of("unix:/tmp/socket") == "unix:/tmp/socket"


def test_quota_bounds_total_and_per_client() -> None:
    quota = StreamQuota(total=3, per_client=2)
    assert quota.acquire("a") is None and quota.acquire("a") is None
    assert quota.acquire("a") == "at most 2 such streams per client address"
    assert quota.acquire("b") is None
    assert quota.acquire("c") == "the node serves at most 3 such streams at once"
    quota.release("a")
    assert quota.acquire("c") is None and quota.open == 3


async def _watchers(address: str, count: int) -> list[str]:
    """Open `count` WatchCommits streams from this host at once, hold them HOLD_S: how each ended
    ('held' when still open)."""
    async with grpc.aio.insecure_channel(address) as channel:
        watch = channel.unary_stream(WATCH, request_serializer=_same, response_deserializer=_same)
        request = node_pb2.WatchCommitsRequest(from_height=10**9).SerializeToString()
        calls = [watch(request) for _ in range(count)]

        async def ended(call: grpc.aio.UnaryStreamCall[bytes, bytes]) -> str:
            try:
                async for _ in call:
                    pass
            except grpc.aio.AioRpcError as exc:
                return str(exc.code().name)
            return "OK"

        tasks = [asyncio.ensure_future(ended(c)) for c in calls]
        await asyncio.sleep(HOLD_S)
        outcomes = [t.result() if t.done() else "held" for t in tasks]
        for call in calls:
            call.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return outcomes


async def _early_end(address: str) -> Counter[str]:
    """SubmitTxStream calls the node must end early (a message does not decode) while the client
    may still be sending a large one, CONCURRENCY at a time as a busy client sends them: the
    statuses the calls got. The race needs the load: one call at a time rarely shows it."""
    big = node_pb2.SubmitTxRequest(tx=os.urandom(BIG_TX_BYTES)).SerializeToString()
    spoiled = big[:-10] + b"\xff" * 10
    shapes = [[spoiled, b"\xd8\xef", b""], [b"", big, b"\xc0"], [big, b"", b"\x37\xf1"], [b"\xc0", big, big]]
    seen: Counter[str] = Counter()
    async with grpc.aio.insecure_channel(address) as channel:
        send = channel.stream_unary(SUBMIT_STREAM, request_serializer=_same, response_deserializer=_same)

        async def one(messages: list[bytes]) -> None:
            try:
                await send(iter(messages), timeout=30)
                seen["OK"] += 1
            except grpc.aio.AioRpcError as exc:
                seen[str(exc.code().name)] += 1

        for round_ in range(ROUNDS):
            await asyncio.gather(*(one(shapes[(round_ + k) % len(shapes)]) for k in range(CONCURRENCY)))
    return seen


def test_watch_streams_are_capped_and_malformed_streams_invalid_argument(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start(0)
        net.wait_ready([0])
        outcomes = asyncio.run(_watchers(net.addresses[0], MAX_WATCH_STREAMS_PER_CLIENT + 4))
        assert outcomes.count("held") == MAX_WATCH_STREAMS_PER_CLIENT, outcomes
        assert outcomes.count("RESOURCE_EXHAUSTED") == 4, outcomes
        # Released when the client goes: the same address may watch again.
        again = asyncio.run(_watchers(net.addresses[0], MAX_WATCH_STREAMS_PER_CLIENT))
        assert again == ["held"] * MAX_WATCH_STREAMS_PER_CLIENT, again
        statuses = asyncio.run(_early_end(net.addresses[0]))
        assert set(statuses) == {"INVALID_ARGUMENT"}, statuses  # old code: ~5 % INTERNAL
        assert net.processes[0].poll() is None
