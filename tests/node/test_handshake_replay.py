"""A Hello captured on the wire between two validators is useless on any other stream.

Real node processes on loopback (plaintext: the case where a passive listener can capture). The
test sits on the link from validator 3 to validator 0 as a forwarding proxy (validator 3's config
routes peer 0 through it), keeps the Hello validator 3's own code sends, and replays it on fresh
streams to validators 0 and 1. Before the fresh-challenge handshake both accepted it and answered
with their status (issue 19, attack 4).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import nacl.signing
import pytest

from ops.cluster import LocalNet, free_port
from proto.votestore.v1 import peer_pb2
from tests.node.hello_kit import signed_hello

pytestmark = pytest.mark.cluster

CONNECT = "/votestore.v1.Peer/Connect"
DIALLER = 3
CAPTURE_TIMEOUT_S = 30.0
REPLAY_TIMEOUT_S = 10.0


def _identity(data: bytes) -> bytes:
    return data


class _Tap:
    """A Peer/Connect proxy that forwards raw frames both ways and keeps every Hello it sees."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.hellos: list[peer_pb2.PeerMessage] = []

    async def connect(self, requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        async def forward() -> AsyncIterator[bytes]:
            async for raw in requests:
                message = peer_pb2.PeerMessage.FromString(raw)
                if message.WhichOneof("kind") == "hello":
                    self.hellos.append(message)
                yield raw

        async with grpc.aio.insecure_channel(self.upstream) as channel:
            call = channel.stream_stream(
                CONNECT, request_serializer=_identity, response_deserializer=_identity
            )
            async for raw in call(forward()):
                yield raw


async def _replay(target: str, hello: peer_pb2.PeerMessage) -> tuple[grpc.StatusCode | None, list[str]]:
    """Send the captured Hello first on a fresh stream, then listen: what came back, how it ended."""
    kinds: list[str] = []

    async def requests() -> AsyncIterator[peer_pb2.PeerMessage]:
        yield hello
        await asyncio.sleep(REPLAY_TIMEOUT_S)  # keep the stream open: an accepted one stays up

    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.stream_stream(
            CONNECT,
            request_serializer=peer_pb2.PeerMessage.SerializeToString,
            response_deserializer=peer_pb2.PeerMessage.FromString,
        )(requests(), timeout=REPLAY_TIMEOUT_S / 2)
        try:
            async for message in call:
                kinds.append(message.WhichOneof("kind") or "")
        except grpc.aio.AioRpcError as exc:
            return exc.code(), kinds
    return None, kinds


async def _stranger(net: LocalNet, target: str) -> tuple[grpc.StatusCode | None, list[str]]:
    """Answer the challenge properly, but with a key that is not in genesis, posing as validator 3."""
    stranger = nacl.signing.SigningKey.generate()
    kinds: list[str] = []
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.stream_stream(
            CONNECT,
            request_serializer=peer_pb2.PeerMessage.SerializeToString,
            response_deserializer=peer_pb2.PeerMessage.FromString,
        )(timeout=REPLAY_TIMEOUT_S)
        try:
            first = await call.read()
            assert first is not grpc.aio.EOF
            kinds.append(first.WhichOneof("kind") or "")
            challenge = first.challenge.nonce
            hello = signed_hello(net.genesis, stranger, DIALLER, 0, challenge)
            await call.write(hello)
            while (message := await call.read()) is not grpc.aio.EOF:
                kinds.append(message.WhichOneof("kind") or "")
        except grpc.aio.AioRpcError as exc:
            return exc.code(), kinds
    return None, kinds


def _refused(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    pattern = r'^votestore_node_peer_handshakes_refused_total\{reason="([a-z_]+)"\} ([0-9.e+]+)$'
    return {m.group(1): float(m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE)}


def test_captured_hello_is_refused_on_a_fresh_stream(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        tap = _Tap(net.peer_addresses[0])
        tap_address = f"127.0.0.1:{free_port()}"
        config = net.config_path(DIALLER)
        config.write_text(config.read_text() + f'[peers]\n0 = "{tap_address}"\n')

        async def scenario() -> dict[str, tuple[grpc.StatusCode | None, list[str]]]:
            server = grpc.aio.server()
            handler = grpc.stream_stream_rpc_method_handler(tap.connect)
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler("votestore.v1.Peer", {"Connect": handler}),)
            )
            server.add_insecure_port(tap_address)
            await server.start()
            try:
                net.start_all()
                await asyncio.to_thread(net.wait_ready)
                deadline = time.monotonic() + CAPTURE_TIMEOUT_S
                while not tap.hellos and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert tap.hellos, "validator 3 never dialled validator 0 through the tap"
                captured = tap.hellos[0]
                assert captured.hello.validator == DIALLER
                return {
                    "validator 0": await _replay(net.peer_addresses[0], captured),
                    "validator 1": await _replay(net.peer_addresses[1], captured),
                    "stranger": await _stranger(net, net.peer_addresses[0]),
                }
            finally:
                await server.stop(0)

        outcomes = asyncio.run(scenario())
        for who, (code, kinds) in outcomes.items():
            assert "status" not in kinds, f"{who} accepted the replayed Hello: {kinds}"
            assert code == grpc.StatusCode.UNAUTHENTICATED, f"{who}: {code} {kinds}"
        assert _refused(net.metrics_ports[0]).get("replayed_hello") == 1.0, _refused(net.metrics_ports[0])
        assert _refused(net.metrics_ports[1]).get("wrong_recipient") == 1.0, _refused(net.metrics_ports[1])
        assert _refused(net.metrics_ports[0]).get("bad_hello_signature") == 1.0, _refused(
            net.metrics_ports[0]
        )
        # Validator 3, whose link to 0 ran through the tap, kept up with the others.
        height = max(s.height for s in (net.status(i) for i in range(3)) if s is not None)
        net.wait_height(height, [DIALLER])
