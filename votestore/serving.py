"""Binding a gRPC server to its listen address: the one place that decides how a port is taken.

gRPC's default sets SO_REUSEPORT on every listening socket, so a second process given the same
address binds it too and the kernel splits new connections between the two: a second copy of a
validator (a "twin", with a fresh data dir) served beside the real one. Every server here turns it
off, so the second process fails to bind and stops with one line naming the address.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Final

import grpc

from votestore.errors import ConfigError

NO_PORT_SHARING: Final = ("grpc.so_reuseport", 0)
"""A server option every votestore server carries: one process per listen address."""


def bind(server: Any, listen: str, credentials: grpc.ServerCredentials | None) -> int:
    """Add the listen address to `server` (TLS when `credentials` is given); return the port bound.

    A port already taken (by any process, a twin included) raises ConfigError with one line.
    """
    try:
        port: int = (
            server.add_insecure_port(listen)
            if credentials is None
            else server.add_secure_port(listen, credentials)
        )
    except RuntimeError:
        port = 0
    if port == 0:
        raise ConfigError(f"cannot listen on {listen}: the address is in use or not local")
    return port


def health_only(listen: str, port: int, servicer: Any) -> grpc.aio.Server | None:
    """gRPC health alone, in plaintext, on `port` of `listen`'s host (None for port 0): what
    Kubernetes' grpc probes, which speak no TLS, can ask while the process's own port serves TLS.
    It answers nothing but SERVING / NOT_SERVING (the servicer is the process's own)."""
    if not port:
        return None
    from grpc_health.v1 import health_pb2_grpc  # the node and the gateway import it anyway

    server = grpc.aio.server(options=[NO_PORT_SHARING])
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    bind(server, f"{listen.rpartition(':')[0]}:{port}", None)
    return server


async def until_stopped() -> None:
    """Return on the process's first SIGINT or SIGTERM (a server's main loop waits here)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
