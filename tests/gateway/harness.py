"""A gateway in this process over the fake validators, and an SDK client talking to it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway import server
from gateway.config import GatewayConfig, Limits
from gateway.identity import MINIMUM_COST, write_identity_store
from tests.gateway.fake_node import ELECTION, PROVIDER, FakeCluster, credential, start_fake_cluster
from votestore.client.ballot import credential_public_key
from votestore.client.gateway_client import GatewayClient
from votestore.keys import write_key_file

VOTERS = range(4)


def second_factor(n: int) -> str:
    return f"1980-01-0{n + 1}"


@dataclass
class Rig:
    cluster: FakeCluster
    running: server.Running
    client: GatewayClient

    @property
    def service(self) -> Any:
        return self.running.service


@asynccontextmanager
async def rig(tmp_path: Path, **limits: Any) -> AsyncIterator[Rig]:
    cluster = await start_fake_cluster()
    genesis_path = tmp_path / "genesis.json"
    genesis_path.write_text(cluster.genesis.to_json())
    identity_path = tmp_path / "identity.store"
    write_identity_store(
        identity_path,
        [(credential_public_key(credential(n), ELECTION), second_factor(n)) for n in VOTERS],
        cost=MINIMUM_COST,
    )
    provider_key = tmp_path / "identity-provider" / "key.json"
    write_key_file(provider_key, PROVIDER, overwrite=True, role="identity-provider")
    config = GatewayConfig(
        listen="127.0.0.1:0",
        genesis=genesis_path,
        identity_store=identity_path,
        identity_provider_key=provider_key,
        insecure_plaintext_key=True,
        limits=dataclasses.replace(Limits(), forward_deadline_s=3.0, **limits),
    )
    running = await server.start(config)
    client = GatewayClient(f"127.0.0.1:{running.port}")
    try:
        yield Rig(cluster, running, client)
    finally:
        await client.close()
        await server.stop(running)
        await cluster.stop()
