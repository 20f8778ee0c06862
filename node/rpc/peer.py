"""Validator-to-validator transport: one authenticated gRPC stream in each direction per pair.

Each node dials every other node and sends its own messages on the stream it dialled; what it
receives arrives on streams others dialled to it. A stream opens with a signed Hello; a peer that
sends garbage is counted and cut off, never allowed to crash the node.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from typing import Final

import grpc
import nacl.signing

from node.shell import NodeShell
from proto.votestore.v1 import peer_pb2, peer_pb2_grpc
from votestore.encoding import hello_signing_bytes, verify_signature

log = logging.getLogger("votestore.node.peer")

HELLO_TIMEOUT_S: Final = 5.0
HELLO_MAX_SKEW_MS: Final = 5 * 60 * 1000
BACKOFF_MIN_S: Final = 0.05
PEER_BACKOFF_MAX_S: Final = 2.0
NONCE_BYTES: Final = 16
MAX_MESSAGE_BYTES: Final = 32 * 1024 * 1024
KEEPALIVE_TIME_MS: Final = 3_000
KEEPALIVE_TIMEOUT_MS: Final = 2_000
# A link whose packets vanish (a cut cable, a partition by dropped routes) looks alive to TCP
# until its retransmissions give up, minutes later; keepalive pings find it within ~5 s, and the
# link redials and replays this height's messages.
CHANNEL_OPTIONS: Final = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
# The server accepts those pings (its default would answer them with GOAWAY too_many_pings).
SERVER_OPTIONS: Final = [
    *CHANNEL_OPTIONS,
    ("grpc.http2.min_recv_ping_interval_without_data_ms", KEEPALIVE_TIME_MS // 2),
    ("grpc.http2.max_ping_strikes", 0),
]


def make_hello(shell: NodeShell, key: nacl.signing.SigningKey) -> peer_pb2.Hello:
    nonce = os.urandom(NONCE_BYTES)
    now = int(time.time() * 1000)
    chain = shell.genesis.chain_id
    signature = key.sign(hello_signing_bytes(chain, shell.index, nonce, now)).signature
    return peer_pb2.Hello(
        chain_id=chain,
        validator=shell.index,
        nonce=nonce,
        time_ms=now,
        height=shell.store.height,
        signature=signature,
    )


def check_hello(shell: NodeShell, hello: peer_pb2.Hello) -> str | None:
    """None if the hello proves the dialler is the validator it names; else why not."""
    genesis = shell.genesis
    if hello.chain_id != genesis.chain_id:
        return "wrong_chain"
    if hello.validator >= genesis.n or hello.validator == shell.index:
        return "not_a_peer"
    if abs(hello.time_ms - time.time() * 1000) > HELLO_MAX_SKEW_MS or len(hello.nonce) != NONCE_BYTES:
        return "stale_hello"
    message = hello_signing_bytes(genesis.chain_id, hello.validator, hello.nonce, hello.time_ms)
    if not verify_signature(genesis.validators[hello.validator].public_key, message, hello.signature):
        return "bad_hello_signature"
    return None


class PeerService(peer_pb2_grpc.PeerServicer):
    """The receiving side: authenticate the dialler, then hand each message to the shell."""

    def __init__(self, shell: NodeShell) -> None:
        self._shell = shell
        self._closing = asyncio.Event()

    def close_streams(self) -> None:
        """End every inbound stream before the server stops, so none has to be cancelled."""
        self._closing.set()

    async def Connect(
        self,
        request_iterator: AsyncIterator[peer_pb2.PeerMessage],
        context: grpc.aio.ServicerContext[peer_pb2.PeerMessage, peer_pb2.PeerMessage],
    ) -> AsyncIterator[peer_pb2.PeerMessage]:
        shell = self._shell
        # The hello is awaited against closing too: a peer that dials while this node stops (and
        # stops itself, sending nothing) would otherwise outlast the server's grace period and be
        # cancelled, which grpc logs with a traceback.
        hello = asyncio.ensure_future(anext(request_iterator))
        closing_early = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({hello, closing_early}, timeout=HELLO_TIMEOUT_S, return_when=FIRST_COMPLETED)
        finally:
            closing_early.cancel()
        if not hello.done():
            hello.cancel()
            if not self._closing.is_set():
                shell.metrics.invalid_messages.labels(reason="no_hello").inc()
            return
        try:
            first = hello.result()
        except StopAsyncIteration:
            shell.metrics.invalid_messages.labels(reason="no_hello").inc()
            return
        why = "no_hello" if first.WhichOneof("kind") != "hello" else check_hello(shell, first.hello)
        if why is not None:
            shell.metrics.invalid_messages.labels(reason=why).inc()
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, why)
        sender = first.hello.validator
        shell.peer_heights[sender] = first.hello.height
        yield peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height))
        # One reader for the stream's life, raced once against closing: a task and a wait per
        # message cost more than handling most messages.
        reader = asyncio.ensure_future(self._deliver(sender, request_iterator))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({reader, closing}, return_when=FIRST_COMPLETED)
            if reader.done():
                reader.result()  # the stream's end, or the abort of an undecodable message
        finally:
            closing.cancel()
            reader.cancel()

    async def _deliver(self, sender: int, messages: AsyncIterator[peer_pb2.PeerMessage]) -> None:
        async for message in messages:
            self._shell.on_peer_message(sender, message)


class PeerLink:
    """The dialling side towards one peer: reconnects with backoff, replays this height's own
    messages after each reconnect so a peer that restarted still hears them."""

    def __init__(self, shell: NodeShell, key: nacl.signing.SigningKey, peer: int, address: str) -> None:
        self._shell = shell
        self._key = key
        self._peer = peer
        self._address = address

    async def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            started = time.monotonic()
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                log.debug("event=peer_down peer=%d code=%s", self._peer, exc.code().name)
            finally:
                self._shell.connected.discard(self._peer)
                self._shell.metrics.peers.set(len(self._shell.connected))
            backoff = BACKOFF_MIN_S if time.monotonic() - started > PEER_BACKOFF_MAX_S else backoff
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, PEER_BACKOFF_MAX_S)

    async def _session(self) -> None:
        async with grpc.aio.insecure_channel(self._address, options=CHANNEL_OPTIONS) as channel:
            call = peer_pb2_grpc.PeerStub(channel).Connect(self._outgoing())
            async for message in call:
                if message.WhichOneof("kind") == "status":
                    # The peer's height as it answers: a restarted node knows at once how far
                    # behind it is, not when the peer dials back (up to PEER_BACKOFF_MAX_S later).
                    # Only a hint: catch-up checks every certificate of what it fetches.
                    self._shell.on_peer_message(self._peer, message)
                if self._peer not in self._shell.connected:
                    self._shell.connected.add(self._peer)
                    self._shell.metrics.peers.set(len(self._shell.connected))
                    log.info("event=peer_up peer=%d", self._peer)

    async def _outgoing(self) -> AsyncIterator[peer_pb2.PeerMessage]:
        shell = self._shell
        yield peer_pb2.PeerMessage(hello=make_hello(shell, self._key))
        yield peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height))
        outbox = shell.outboxes[self._peer]
        while not outbox.empty():  # what queued while we were away is replaced by the replay
            outbox.get_nowait()
        for message in list(shell.own_messages):
            yield message
        while True:
            yield await outbox.get()
