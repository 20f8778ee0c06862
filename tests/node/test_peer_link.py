"""The dialling side of a peer stream takes the height the peer answers with: a restarted node
knows how far behind it is as soon as its own dial connects, not when the peer dials back (which
made bench.catchup wait up to the peers' 2 s reconnect backoff in some runs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import nacl.signing

from node.rpc.peer import SERVER_OPTIONS, PeerLink
from proto.votestore.v1 import peer_pb2, peer_pb2_grpc
from tests.ledger.election_kit import Election
from tests.node.shell_kit import intake_shell
from votestore.channels import ValidatorDialer

PEER = 1
PEER_HEIGHT = 7
CHALLENGE = bytes(range(16))
WAIT_S = 30.0


class _AnsweringPeer(peer_pb2_grpc.PeerServicer):
    """A peer's server as far as the dialler sees it: after the hello, its status, then it listens."""

    def __init__(self) -> None:
        self.hello: peer_pb2.Hello | None = None

    async def Connect(  # gRPC's method name
        self, request_iterator: AsyncIterator[peer_pb2.PeerMessage], context: Any
    ) -> AsyncIterator[peer_pb2.PeerMessage]:
        yield peer_pb2.PeerMessage(challenge=peer_pb2.Challenge(nonce=CHALLENGE))
        first = await anext(request_iterator)
        self.hello = first.hello
        yield peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=PEER_HEIGHT))
        async for _ in request_iterator:
            pass


def test_a_dialled_peer_s_status_sets_its_height(tmp_path: Path) -> None:
    shell = intake_shell(tmp_path, Election.created(voters=1).chain.app, None)
    key = nacl.signing.SigningKey.generate()

    async def run() -> None:
        server = grpc.aio.server(options=SERVER_OPTIONS)  # the peers' keepalive policy
        peer = _AnsweringPeer()
        peer_pb2_grpc.add_PeerServicer_to_server(peer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        heard = asyncio.Event()
        take = shell.on_peer_message

        def on_peer_message(sender: int, message: peer_pb2.PeerMessage) -> None:
            take(sender, message)
            heard.set()

        shell.on_peer_message = on_peer_message  # type: ignore[method-assign]
        link = asyncio.ensure_future(
            PeerLink(shell, key, PEER, f"127.0.0.1:{port}", ValidatorDialer(None)).run()
        )
        try:
            await asyncio.wait_for(heard.wait(), WAIT_S)
            assert PEER in shell.connected
        finally:
            link.cancel()
            await server.stop(None)
        assert peer.hello is not None and peer.hello.validator == shell.index
        assert peer.hello.challenge == CHALLENGE and peer.hello.to == PEER
        assert shell.peer_heights == {PEER: PEER_HEIGHT}

    try:
        asyncio.run(run())
    finally:
        shell.store.close()
