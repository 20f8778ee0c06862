"""Validator-to-validator transport: one authenticated gRPC stream in each direction per pair.

Each node dials every other node and sends its own messages on the stream it dialled; what it
receives arrives on streams others dialled to it. A stream opens with a fresh Challenge from the
accepting side, answered by the dialler's Hello signed over (chain, dialler, accepting validator,
challenge, time): a Hello captured from one stream — on the wire, or by a peer it was sent to —
is refused on any other, and counted in votestore_node_peer_handshakes_refused_total. Under TLS the
dialler has also checked the accepting side's genesis-bound certificate (votestore.channels).
A peer that sends garbage is counted and cut off, never allowed to crash the node.

This module holds the handshake and the accepting side (PeerService); the dialling side is
node/rpc/peer_link.py, the channels' options node/rpc/peer_options.py.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import grpc

from node.shell import NodeShell
from node.signing import Signer
from proto.votestore.v1 import peer_pb2, peer_pb2_grpc
from votestore import version as build
from votestore.encoding import hello_signing_bytes, verify_signature
from votestore.version import PROTOCOL_VERSION

log = logging.getLogger("votestore.node.peer")

HELLO_TIMEOUT_S: Final = 5.0
HELLO_MAX_SKEW_MS: Final = 5 * 60 * 1000
NONCE_BYTES: Final = 16


def new_challenge() -> bytes:
    return os.urandom(NONCE_BYTES)


def make_hello(shell: NodeShell, signer: Signer, to: int, challenge: bytes) -> peer_pb2.Hello:
    """The answer to validator `to`'s challenge on one stream."""
    now = int(time.time() * 1000)
    chain = shell.genesis.chain_id
    genesis_hash = shell.genesis.hash()
    signature = signer.sign(
        hello_signing_bytes(chain, shell.index, to, challenge, now, PROTOCOL_VERSION, genesis_hash)
    )
    return peer_pb2.Hello(
        chain_id=chain,
        validator=shell.index,
        challenge=challenge,
        time_ms=now,
        height=shell.store.height,
        signature=signature,
        protocol_version=PROTOCOL_VERSION,
        genesis_hash=genesis_hash,
        to=to,
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a hello is refused: `reason` labels the metric, `detail` goes back to the dialler."""

    reason: str
    detail: str
    code: grpc.StatusCode = grpc.StatusCode.UNAUTHENTICATED


def check_hello(shell: NodeShell, hello: peer_pb2.Hello, challenge: bytes) -> Refusal | None:
    """None if the hello proves the dialler is the validator it names, dialling this validator on
    the stream that sent `challenge`, speaking this node's protocol on this node's genesis; else
    why not. Mismatched protocol or genesis is said plainly (an operator mid-upgrade reads it in
    the dialler's log), and checked before the signature, whose bytes an older protocol lays out
    differently."""
    genesis = shell.genesis
    if hello.protocol_version != PROTOCOL_VERSION:
        return Refusal(
            "wrong_protocol_version",
            f"peer speaks protocol version {hello.protocol_version}, this node {PROTOCOL_VERSION} "
            f"({build.describe()}); validators of one chain must run the same protocol version",
            grpc.StatusCode.FAILED_PRECONDITION,
        )
    if hello.chain_id != genesis.chain_id:
        return Refusal(
            "wrong_chain", f"peer is on chain {hello.chain_id!r}, this node on {genesis.chain_id!r}"
        )
    if hello.genesis_hash != genesis.hash():
        return Refusal(
            "wrong_genesis",
            f"peer's genesis hash {hello.genesis_hash.hex()[:16]}… differs from this node's "
            f"{genesis.hash().hex()[:16]}… (`votestore genesis hash` on each site's file)",
            grpc.StatusCode.FAILED_PRECONDITION,
        )
    if hello.validator >= genesis.n or hello.validator == shell.index:
        return Refusal("not_a_peer", f"validator {hello.validator} is not a peer of this node")
    if hello.to != shell.index:
        return Refusal("wrong_recipient", f"hello is for validator {hello.to}, not this node")
    if not hmac.compare_digest(hello.challenge, challenge):
        # Signed for another stream's challenge: captured on the wire, or passed on by a peer.
        return Refusal("replayed_hello", "hello does not answer this stream's challenge")
    if abs(hello.time_ms - time.time() * 1000) > HELLO_MAX_SKEW_MS:
        return Refusal("stale_hello", "hello too old or from too far ahead")
    message = hello_signing_bytes(
        genesis.chain_id,
        hello.validator,
        hello.to,
        challenge,
        hello.time_ms,
        hello.protocol_version,
        hello.genesis_hash,
    )
    if not verify_signature(genesis.validators[hello.validator].public_key, message, hello.signature):
        return Refusal("bad_hello_signature", "hello signature does not verify")
    return None


LIVE_STREAM_S: Final = 3.0
"""An inbound stream that delivered a message this recently is live: a second stream claiming the
same validator meanwhile is a twin (another process with its key), not a reconnect."""


@dataclass(slots=True)
class _Inbound:
    """One validator's inbound stream: when it last delivered, and how to end it."""

    last_heard: float
    reader: asyncio.Future[None] | None = None


class PeerService(peer_pb2_grpc.PeerServicer):
    """The receiving side: authenticate the dialler, then hand each message to the shell.

    One inbound stream per validator: a second authenticated stream for a validator whose stream
    is live (it delivered within LIVE_STREAM_S) is refused as `duplicate_validator` and logged —
    two processes hold that validator's key. A second stream while the first has gone quiet is a
    reconnect (the peer restarted, or its link broke unnoticed): the new one replaces the old."""

    def __init__(self, shell: NodeShell) -> None:
        self._shell = shell
        self._closing = asyncio.Event()
        self._inbound: dict[int, _Inbound] = {}

    def _admit(self, sender: int) -> _Inbound | None:
        """The new stream's record, or None when `sender` already has a live stream."""
        now = self._shell.clock.now()
        current = self._inbound.get(sender)
        if current is not None and now - current.last_heard < LIVE_STREAM_S:
            return None
        if current is not None and current.reader is not None:
            current.reader.cancel()  # the quiet one is replaced
        entry = self._inbound[sender] = _Inbound(last_heard=now)
        return entry

    def close_streams(self) -> None:
        """End every inbound stream before the server stops, so none has to be cancelled."""
        self._closing.set()

    async def Connect(
        self,
        request_iterator: AsyncIterator[peer_pb2.PeerMessage],
        context: grpc.aio.ServicerContext[peer_pb2.PeerMessage, peer_pb2.PeerMessage],
    ) -> AsyncIterator[peer_pb2.PeerMessage]:
        shell = self._shell
        challenge = new_challenge()
        yield peer_pb2.PeerMessage(challenge=peer_pb2.Challenge(nonce=challenge))
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
                shell.metrics.handshakes_refused.labels(reason="no_hello").inc()
            return
        try:
            first = hello.result()
        except StopAsyncIteration:
            shell.metrics.handshakes_refused.labels(reason="no_hello").inc()
            return
        if first.WhichOneof("kind") != "hello":
            shell.metrics.handshakes_refused.labels(reason="no_hello").inc()
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "no_hello: a peer stream opens with Hello")
        refusal = check_hello(shell, first.hello, challenge)
        if refusal is not None:
            shell.metrics.handshakes_refused.labels(reason=refusal.reason).inc()
            log.warning("event=peer_refused reason=%s detail=%r", refusal.reason, refusal.detail)
            await context.abort(refusal.code, f"{refusal.reason}: {refusal.detail}")
        sender = first.hello.validator
        entry = self._admit(sender)
        if entry is None:
            shell.metrics.handshakes_refused.labels(reason="duplicate_validator").inc()
            log.warning(
                "event=peer_twin validator=%d peer=%s detail=a second live stream claims this validator",
                sender,
                context.peer(),
            )
            await context.abort(
                grpc.StatusCode.ALREADY_EXISTS,
                f"duplicate_validator: validator {sender} already has a live stream to this node",
            )
        assert entry is not None
        shell.peers.heard_height(sender, first.hello.height)
        yield peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height))
        # One reader for the stream's life, raced once against closing: a task and a wait per
        # message cost more than handling most messages.
        reader = entry.reader = asyncio.ensure_future(self._deliver(sender, request_iterator, entry))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({reader, closing}, return_when=FIRST_COMPLETED)
            if reader.done() and not reader.cancelled():
                reader.result()  # the stream's end, or the abort of an undecodable message
        finally:
            closing.cancel()
            reader.cancel()
            if self._inbound.get(sender) is entry:
                del self._inbound[sender]

    async def _deliver(
        self, sender: int, messages: AsyncIterator[peer_pb2.PeerMessage], entry: _Inbound
    ) -> None:
        clock = self._shell.clock
        async for message in messages:
            entry.last_heard = clock.now()
            self._shell.on_peer_message(sender, message)
