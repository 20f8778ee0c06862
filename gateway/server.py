"""One gateway process: the Gateway service, gRPC health and reflection, metrics, TLS.

`serve` runs until cancelled (SIGINT/SIGTERM in `run`); it prints one line with the bound address
so a supervisor or a test that asked for port 0 learns the real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from gateway.attest import IdentityProvider
from gateway.commits import CommitWatcher
from gateway.config import GatewayConfig
from gateway.identity import IdentityStore
from gateway.limits import Clock, KeyedLimiter
from gateway.metrics import GatewayMetrics
from gateway.remote_identity import RemoteIdentityProvider
from gateway.service import GatewayService, Parts
from gateway.validators import ValidatorPool
from gateway.web_bridge import WebServing, grpc_web_server, start_web
from proto.votestore.v1 import gateway_pb2, identity_pb2
from votestore import logs
from votestore import version as build
from votestore.channels import ValidatorDialer
from votestore.errors import ConfigError
from votestore.genesis import load_genesis
from votestore.grpc_service import add_service
from votestore.keys import read_key_file
from votestore.limits import GATEWAY_REPLY_FACTOR, message_options
from votestore.netaddr import host_of
from votestore.serving import NO_PORT_SHARING, bind, health_only, until_stopped

log = logging.getLogger("votestore.gateway.server")

GATEWAY_SERVICE: Final = gateway_pb2.DESCRIPTOR.services_by_name["Gateway"].full_name
SHUTDOWN_GRACE_S: Final = 5.0
MAX_CONCURRENT_RPCS: Final = 1000
"""Beyond this many calls in flight, new ones get RESOURCE_EXHAUSTED from gRPC itself."""
GC_YOUNG_OBJECTS: Final = 10_000
"""Net new container objects between young-generation collections (Python's default: 700);
cyclic garbage waits that long at most, a few megabytes."""


@dataclass(frozen=True, slots=True)
class Running:
    config: GatewayConfig
    server: Any
    port: int
    service: GatewayService
    watcher_task: asyncio.Task[None]
    health_server: Any = None
    """The plaintext health-only server on `health_port`, if the config asks for one."""
    web: WebServing | None = None
    """The gRPC-Web bridge for the voter page, if configured (the page is served apart)."""


def _read(path: Any, what: str) -> bytes:
    try:
        data: bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"TLS {what} {path} unreadable: {exc.strerror}") from None
    return data


def identity_provider(config: GatewayConfig, clock: Clock = time.monotonic) -> IdentityProvider | None:
    """The identity-provider role this gateway serves: its key and the credential authority's
    store, both named in the config, or neither (then Attest and assisted casting are refused)."""
    if config.identity_store is None or config.identity_provider_key is None:
        return None  # the config reader refuses one without the other
    return IdentityProvider(
        read_key_file(
            config.identity_provider_key,
            unlock=config.unlock("the gateway's config"),
        ),
        IdentityStore(config.identity_store),
        KeyedLimiter(config.limits.identity_failure_rate(), clock),
    )


def _parts(config: GatewayConfig) -> Parts:
    genesis = load_genesis(config.genesis)
    identity = identity_provider(config)
    if config.validator_cas is not None:
        dialer = ValidatorDialer.with_tls(genesis, config.validator_cas)
    else:
        dialer = ValidatorDialer.plaintext_to((v.public_address for v in genesis.validators), "gateway")
    pool = ValidatorPool(genesis, dialer)
    remote = None
    if config.identity_provider is not None:
        remote = RemoteIdentityProvider(config.identity_provider, config.identity_provider_ca)
    return Parts(
        genesis=genesis,
        pool=pool,
        watcher=CommitWatcher(pool),
        identity=identity,
        remote_identity=remote,
        limits=config.limits,
        metrics=GatewayMetrics(),
    )


async def start(config: GatewayConfig) -> Running:
    """Load everything the config names (ConfigError on any problem), then bind and serve."""
    parts = _parts(config)
    credentials = None
    if config.tls is not None:
        pair = (_read(config.tls.key, "key"), _read(config.tls.cert, "certificate"))
        credentials = grpc.ssl_server_credentials([pair])
    size = config.limits.max_message_bytes
    server = grpc.aio.server(
        options=[
            *message_options(receive=size, send=GATEWAY_REPLY_FACTOR * size),
            NO_PORT_SHARING,
        ],
        maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS,
    )
    service = GatewayService(parts)
    services = (
        gateway_pb2.DESCRIPTOR.services_by_name["Gateway"],
        identity_pb2.DESCRIPTOR.services_by_name["IdentityProvider"],
    )
    web_server = grpc_web_server() if config.web is not None else None
    for descriptor in services:
        add_service(server, service, descriptor)
        if web_server is not None:
            add_service(web_server, service, descriptor)  # the same servicer, over gRPC-Web
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (GATEWAY_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = bind(server, config.listen, credentials)
    if config.metrics_port:
        try:
            start_http_server(
                config.metrics_port, addr=host_of(config.listen), registry=parts.metrics.registry
            )
        except OSError as exc:
            raise ConfigError(f"cannot serve metrics on port {config.metrics_port}: {exc.strerror}") from None
    health_server = health_only(config.listen, config.health_port, health_servicer)
    await server.start()
    if health_server is not None:
        await health_server.start()
    web = None
    if config.web is not None:
        try:
            web = await start_web(config.web, web_server, size)
        except ConfigError:
            await server.stop(0)  # started above: stopped here, so the one error line stands alone
            if health_server is not None:
                await health_server.stop(0)
            raise
    serving = health_pb2.HealthCheckResponse.SERVING
    await health_servicer.set("", serving)
    await health_servicer.set(GATEWAY_SERVICE, serving)
    watcher_task = asyncio.create_task(parts.watcher.run())
    return Running(config, server, port, service, watcher_task, health_server, web)


async def stop(running: Running) -> None:
    running.watcher_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running.watcher_task
    if running.web is not None:
        await running.web.stop()
    await running.server.stop(SHUTDOWN_GRACE_S)
    if running.health_server is not None:
        await running.health_server.stop(0)
    await running.service.receipts.close()
    await running.service.parts.pool.close()
    if running.service.parts.remote_identity is not None:
        await running.service.parts.remote_identity.close()


async def serve(config: GatewayConfig) -> None:
    running = await start(config)
    host = config.listen.rpartition(":")[0]
    sys.stdout.write(f"gateway listening on {host}:{running.port}\n")
    web = running.web
    if web is not None and config.web is not None:
        sys.stdout.write(f"gateway web bridge listening on {host_of(config.web.listen)}:{web.bridge_port}\n")
    sys.stdout.flush()
    try:
        await until_stopped()
    finally:
        await stop(running)


def tune_gc() -> None:
    """Every ballot keeps some hundred container objects alive for the second or so its two calls
    are in flight; at Python's default thresholds young collections move them up the generations
    and set off full collections that walk every object of the process, startup's included. So
    startup's objects are frozen (they live as long as the process; full collections skip them)
    and young collections wait for GC_YOUNG_OBJECTS. What it cost before: docs/benchmarks.md,
    "Figures that left the docstrings"."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_OBJECTS, older, oldest)


def run(config: GatewayConfig) -> None:
    logs.setup("gateway")
    logging.getLogger("votestore.gateway").info("event=start component=gateway %s", build.log_fields())
    tune_gc()
    asyncio.run(serve(config))
