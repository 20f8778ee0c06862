"""`bind`: a second server on a taken address fails with one line instead of sharing the port."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from votestore.errors import ConfigError
from votestore.serving import NO_PORT_SHARING, bind


def test_second_server_on_the_same_address_is_refused() -> None:
    asyncio.run(_second_server())


async def _second_server() -> None:
    first = grpc.aio.server(options=[NO_PORT_SHARING])
    port = bind(first, "127.0.0.1:0", None)
    await first.start()
    try:
        second = grpc.aio.server(options=[NO_PORT_SHARING])
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind(second, f"127.0.0.1:{port}", None)
    finally:
        await first.stop(0)
