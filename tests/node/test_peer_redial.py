"""A peer back after being down is reached within the link's redial backoff (issue 19).

gRPC shares one connection per address among live channels with the same options and, after
failed connects, waits out its own reconnect backoff (1 s growing 1.6x, to 120 s), failing every
call at once meanwhile — so a fresh `PeerLink` session to a validator that restarted failed for
seconds after it was serving again (7.2 s after 20 s down, here on main), and the restarted
validator, hearing nothing from that peer, joined consensus late. Real gRPC on loopback: a port
refused for a while, then served, with another channel to it open all along (as in a node)."""

from __future__ import annotations

import asyncio
import time

import grpc

from node.rpc.peer_options import CHANNEL_OPTIONS, PEER_BACKOFF_MAX_S
from ops.cluster.localnet import free_port

DOWN_S = 20.0
"""Long enough for gRPC's default backoff to grow past 6 s (attempts at about 0, 1, 2.6, 5.2,
9.3, 15.9, 26.5 s)."""
REACHED_S = PEER_BACKOFF_MAX_S + 0.5
"""The link redials at most this often; gRPC's capped reconnect backoff (jittered) no slower."""


async def _call(address: str) -> grpc.StatusCode:
    """One call on a fresh channel, as each `PeerLink` session opens one: UNAVAILABLE while no
    connection, UNIMPLEMENTED once the server answers (it serves no methods)."""
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_unary("/votestore.test.Nothing/Call")
        try:
            await call(b"", timeout=0.5)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_a_peer_serving_again_is_reached_within_the_redial_backoff() -> None:
    address = f"127.0.0.1:{free_port()}"

    async def run() -> float:
        other = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        other.get_state(try_to_connect=True)
        began = time.monotonic()
        while time.monotonic() - began < DOWN_S:  # the peer is down: every dial fails
            assert await _call(address) == grpc.StatusCode.UNAVAILABLE
            await asyncio.sleep(0.05)
        server = grpc.aio.server()
        server.add_insecure_port(address)
        await server.start()
        try:
            up = time.monotonic()
            while await _call(address) == grpc.StatusCode.UNAVAILABLE:
                assert time.monotonic() - up < 30.0, "never reached"
                await asyncio.sleep(0.05)
            return time.monotonic() - up
        finally:
            await other.close()
            await server.stop(None)

    waited = asyncio.run(run())
    assert waited < REACHED_S, f"reached {waited:.2f} s after it served"
