"""The dialling side of validator-to-validator transport (node/rpc/peer.py has the handshake and
the accepting side): one link per peer, redialled with backoff, its stream answering the peer's
challenge with a Hello and then carrying this node's messages to that peer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Final

import grpc

from node.rpc.peer import HELLO_TIMEOUT_S, make_hello
from node.rpc.peer_options import BACKOFF_MIN_S, CHANNEL_OPTIONS, PEER_BACKOFF_MAX_S
from node.shell import NodeShell
from node.signing import Signer
from proto.votestore.v1 import peer_pb2, peer_pb2_grpc
from votestore.channels import ValidatorDialer

log = logging.getLogger("votestore.node.peer")

CHALLENGE_GRACE_S: Final = 1.0
"""Past HELLO_TIMEOUT_S, how long a dialled call may stay unanswered before it is ended (the
stream normally ends by itself once the hello is not sent)."""
NO_CHALLENGE: Final = (
    f"peer sent no challenge within {HELLO_TIMEOUT_S:g} s (a node of protocol version < 2, "
    "or not a votestore node)"
)
REFUSED_CODES: Final = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.FAILED_PRECONDITION})


class PeerLink:
    """The dialling side towards one peer: reconnects with backoff, replays this height's own
    messages after each reconnect so a peer that restarted still hears them."""

    def __init__(
        self, shell: NodeShell, signer: Signer, peer: int, address: str, dialer: ValidatorDialer
    ) -> None:
        self._shell = shell
        self._signer = signer
        self._peer = peer
        self._address = address
        self._refused: str | None = None
        self._dialer = dialer

    async def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            started = time.monotonic()
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                self._note_down(exc)
            finally:
                self._shell.peers.down(self._peer)
            backoff = BACKOFF_MIN_S if time.monotonic() - started > PEER_BACKOFF_MAX_S else backoff
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, PEER_BACKOFF_MAX_S)

    def _note_down(self, exc: grpc.aio.AioRpcError) -> None:
        """A peer that refuses this node's hello (another protocol version or genesis) is worth one
        warning per distinct reason, not one per redial; a link that merely drops is debug."""
        if exc.code() in REFUSED_CODES:
            detail = exc.details() or exc.code().name
            if detail != self._refused:
                log.warning(
                    "event=refused_by_peer peer=%d code=%s detail=%r", self._peer, exc.code().name, detail
                )
            self._refused = detail
            return
        log.debug("event=peer_down peer=%d code=%s", self._peer, exc.code().name)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        challenge: asyncio.Future[bytes] = loop.create_future()
        async with self._dialer.aio(self._peer, self._address, CHANNEL_OPTIONS) as channel:
            call = peer_pb2_grpc.PeerStub(channel).Connect(self._outgoing(challenge))
            # A call the peer never answers (no challenge, no status, no end) would hold this
            # link for ever, the peer unheard: once the challenge is late, end it and redial.
            late = False

            def end_if_unanswered() -> None:
                nonlocal late
                if not challenge.done() or challenge.cancelled():  # the hello's wait cancels it
                    late = True
                    call.cancel()

            watchdog = loop.call_later(HELLO_TIMEOUT_S + CHALLENGE_GRACE_S, end_if_unanswered)
            try:
                await self._read(call, challenge)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not late or (task is not None and task.cancelling()):
                    raise
                log.debug("event=peer_unanswered peer=%d", self._peer)
            finally:
                watchdog.cancel()
                # A call that failed on its own (the peer not yet listening) leaves gRPC's task
                # reading `_outgoing` waiting for the challenge: end that wait now, or it names
                # the peer `no_challenge` seconds later, though the peer never took the call.
                if not challenge.done():
                    challenge.cancel()

    async def _read(
        self, call: AsyncIterable[peer_pb2.PeerMessage], challenge: asyncio.Future[bytes]
    ) -> None:
        async for message in call:
            kind = message.WhichOneof("kind")
            if kind == "challenge":
                if not challenge.done():
                    challenge.set_result(message.challenge.nonce)
                continue
            if kind == "status":
                # The peer's height as it answers: a restarted node knows at once how far
                # behind it is, not when the peer dials back (up to PEER_BACKOFF_MAX_S later).
                # Only a hint: catch-up checks every certificate of what it fetches.
                self._shell.on_peer_message(self._peer, message)
            self._shell.peers.up(self._peer)

    async def _outgoing(self, challenge: asyncio.Future[bytes]) -> AsyncIterator[peer_pb2.PeerMessage]:
        shell = self._shell
        kept = shell.peers.session_started(self._peer)  # before the handshake: see Peers
        # The accepting side speaks first; a peer that sends no challenge gets no hello and the
        # stream ends with the wait (the session then redials with backoff).
        try:
            nonce = await asyncio.wait_for(challenge, HELLO_TIMEOUT_S)
        except TimeoutError:
            # A peer of protocol 1 or older waits for an unprompted Hello; say so once per peer.
            if self._refused != NO_CHALLENGE:
                log.warning("event=no_challenge peer=%d detail=%r", self._peer, NO_CHALLENGE)
            self._refused = NO_CHALLENGE
            return
        yield peer_pb2.PeerMessage(hello=make_hello(shell, self._signer, self._peer, nonce))
        yield peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=shell.store.height))
        for message in shell.peers.reconnected(self._peer):  # replaces what queued meanwhile
            yield message
        for message in shell.evidence.for_new_link():
            yield message
        for message in kept:
            yield message
        while True:
            yield await shell.peers.next_for(self._peer)
