"""`votestore identity-provider run`: the identity provider as a process of its own, with its own
config, key and port — the party that checks a voter's second factor and attests one ballot
digest for one voter (docs/roles.md). It serves the `IdentityProvider` service (`Attest`) and gRPC
health, nothing else: it reaches no validator and sees no ballot, only a voter's public key, the
second factor typed and a digest.

`identity-provider.toml` (paths relative to the file):

    listen = "127.0.0.1:7200"
    genesis = "genesis.json"            # the chain id its attestations are bound to
    key = "key.json"                    # its Ed25519 key, the one election definitions name
    store = "identity.store"            # from the credential authority (gateway/identity.py)
    tls = { cert = "idp.pem", key = "idp.key" }   # none: plaintext, loopback only
    [limits]                            # per client address; failed checks per voter key
    client_requests_per_s = 50.0
    client_burst = 100.0
    identity_failures_per_hour = 5.0
    identity_failure_burst = 5.0
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.attest import IdentityProvider, answer_attest
from gateway.config import TlsFiles
from gateway.errors import Refusal
from gateway.identity import IdentityStore
from gateway.limits import AttestLimits, KeyedLimiter
from proto.votestore.v1 import identity_pb2, identity_pb2_grpc
from votestore import logs
from votestore import version as build
from votestore.config_file import (
    HostPort,
    RelativePath,
    parse,
    read_toml,
    table,
)
from votestore.errors import ConfigError
from votestore.genesis import load_genesis
from votestore.grpc_service import add_service
from votestore.keys import read_key_file
from votestore.netaddr import is_local_only
from votestore.sealed_key import SealedKey
from votestore.serving import NO_PORT_SHARING, bind, until_stopped

log = logging.getLogger("votestore.identity_provider")

SERVICE: Final = identity_pb2.DESCRIPTOR.services_by_name["IdentityProvider"]
SHUTDOWN_GRACE_S: Final = 5.0
MAX_CONCURRENT_RPCS: Final = 256


@table
@dataclass(frozen=True, slots=True)
class ProviderConfig(SealedKey):
    """`identity-provider.toml` as read; the key's passphrase settings are `SealedKey`'s."""

    listen: HostPort
    genesis: RelativePath
    key: RelativePath
    """The identity provider's key file (`votestore keys gen --role identity-provider`)."""
    store: RelativePath
    """The credential authority's store of second-factor hashes (`roll import --identity-store`)."""
    tls: TlsFiles | None = None
    limits: AttestLimits = field(default_factory=AttestLimits)


def load_provider_config(path: Path) -> ProviderConfig:
    config = parse(ProviderConfig, read_toml(path), str(path), base=path.parent)
    config.check_key_settings(path, {"listen": config.listen})
    if config.tls is None and not is_local_only(config.listen):
        raise ConfigError(f"{path}: without 'tls' the identity provider listens on loopback only")
    return config


CLIENT_RATE_REFUSAL: Final = "client over its request rate; retry later"
"""RESOURCE_EXHAUSTED's message for a client over its request rate: a retry later succeeds, unlike
after gateway.attest.FAILED_CHECKS_REFUSAL (the voter page keeps the ballot and offers to cast it
again)."""


class IdentityProviderService(identity_pb2_grpc.IdentityProviderServicer):
    """Attest, behind a per-client request limit; a Refusal becomes the call's status."""

    def __init__(self, provider: IdentityProvider, chain_id: str, limits: AttestLimits) -> None:
        self.provider = provider
        self.chain_id = chain_id
        self.clients = KeyedLimiter(limits.client_rate(), time.monotonic)

    async def Attest(self, request: identity_pb2.AttestRequest, context: Any) -> identity_pb2.AttestResponse:
        peer: str = context.peer() or "unknown"
        client = peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer
        try:
            if not self.clients.take(client):
                raise Refusal(grpc.StatusCode.RESOURCE_EXHAUSTED, CLIENT_RATE_REFUSAL)
            return await answer_attest(self.provider, self.chain_id, request)
        except Refusal as refusal:
            log.info("event=attest_refused status=%s", refusal.status.name)
            await context.abort(refusal.status, refusal.message)
            raise AssertionError("context.abort returned") from None


def provider_of(config: ProviderConfig) -> IdentityProvider:
    return IdentityProvider(
        read_key_file(
            config.key,
            role="identity-provider",
            unlock=config.unlock("the identity provider's config"),
        ),
        IdentityStore(config.store),
        KeyedLimiter(config.limits.identity_failure_rate(), time.monotonic),
    )


async def serve(config: ProviderConfig) -> None:
    genesis = load_genesis(config.genesis)
    provider = provider_of(config)
    credentials = None
    if config.tls is not None:
        try:
            pair = (config.tls.key.read_bytes(), config.tls.cert.read_bytes())
        except OSError as exc:
            raise ConfigError(f"TLS file unreadable: {exc}") from None
        credentials = grpc.ssl_server_credentials([pair])
    server = grpc.aio.server(options=[NO_PORT_SHARING], maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS)
    add_service(server, IdentityProviderService(provider, genesis.chain_id, config.limits), SERVICE)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = bind(server, config.listen, credentials)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    sys.stdout.write(f"identity provider listening on {config.listen.rpartition(':')[0]}:{port}\n")
    sys.stdout.flush()
    log.info("event=serving voters=%d key=%s", len(provider.store), bytes(provider.key.verify_key).hex()[:16])
    try:
        await until_stopped()
    finally:
        await server.stop(SHUTDOWN_GRACE_S)


def run(config: ProviderConfig) -> None:
    logs.setup("identity-provider")
    log.info("event=start component=identity-provider %s", build.log_fields())
    asyncio.run(serve(config))
