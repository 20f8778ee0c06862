"""The identity provider as a process of its own (`votestore identity-provider run`), and a
gateway that holds no provider key or store: device casting asks the provider directly, assisted
casting has the gateway ask it as a device does (issue 18: each role in its own process)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from gateway import server
from gateway.config import load_config
from gateway.identity_server import load_provider_config
from ops.cluster.gateway import GatewayProcess, write_provider_config
from proto.votestore.v1 import identity_pb2
from tests.gateway.fake_node import CHAIN_ID, ELECTION, PROVIDER, credential
from tests.gateway.harness import Rig, rig, second_factor
from votestore.client.ballot import PreparedBallot, prepare_ballot
from votestore.client.gateway_client import GatewayClient, GatewayError
from votestore.crypto import attestation
from votestore.crypto.credential import derive_credential_key
from votestore.errors import ConfigError

CHOICES = {"mayor": [1], "council": [0, 2]}
FAILURE_BURST = 2


def _provider_process(tmp_path: Path, r: Rig) -> GatewayProcess:
    """The rig's identity provider key and store, served by `votestore identity-provider run`."""
    gateway = r.running.config
    assert gateway.identity_provider_key is not None and gateway.identity_store is not None
    directory = tmp_path / "identity-provider"
    config, target = write_provider_config(
        directory,
        gateway.genesis,
        gateway.identity_provider_key,
        gateway.identity_store,
        limits={"identity_failure_burst": FAILURE_BURST, "client_burst": 1000},
    )
    return GatewayProcess(directory, config, target, role="identity-provider")


def test_a_gateway_without_the_providers_key_casts_both_ways_through_the_provider_process(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            with _provider_process(tmp_path, r) as provider:
                assert provider.process is not None and provider.process.poll() is None
                config = dataclasses.replace(
                    r.running.config,
                    identity_store=None,
                    identity_provider_key=None,
                    identity_provider=provider.target,
                )
                casting = await server.start(config)
                target = f"127.0.0.1:{casting.port}"
                try:
                    async with GatewayClient(target) as alone:
                        # The casting gateway holds no provider key: the voter's own ask (the voter
                        # page's way in) is passed on as it came, and the provider's process answers
                        # it with the provider's signature.
                        prepared = _prepared(r)
                        attested = await alone.attest(CHAIN_ID, prepared, second_factor(3))
                        signed = attestation.message(CHAIN_ID, ELECTION, prepared.voter, prepared.digest)
                        PROVIDER.verify_key.verify(signed, attested)
                    async with GatewayClient(target, identity_target=provider.target) as client:
                        device = await client.cast(ELECTION, credential(0), CHOICES, second_factor(0))
                        assisted = await client.cast_assisted(
                            ELECTION, credential(1), second_factor(1), CHOICES
                        )
                        # A wrong second factor, asked by the gateway, is refused by the provider and
                        # counted there: the provider's limit holds whoever asks.
                        for _ in range(FAILURE_BURST):
                            with pytest.raises(GatewayError, match="UNAUTHENTICATED: credential or identity"):
                                await client.cast_assisted(ELECTION, credential(2), "1999-12-31", CHOICES)
                        with pytest.raises(GatewayError, match="RESOURCE_EXHAUSTED: too many failed"):
                            await client.cast(ELECTION, credential(2), CHOICES, second_factor(2))
                    assert set(r.cluster.ledger.mempool) == {device.tracking_code, assisted.tracking_code}
                finally:
                    await server.stop(casting)
            log = (tmp_path / "identity-provider" / "identity-provider.log").read_text()
            assert "identity provider listening on" in log and "Traceback" not in log
            assert second_factor(0) not in log and "1999-12-31" not in log

    asyncio.run(scenario())


def _prepared(r: Rig) -> PreparedBallot:
    state = r.cluster.ledger.elections[ELECTION]
    return prepare_ballot(state.definition, state.election_key, credential(3), CHOICES)


def test_the_provider_process_refuses_an_ask_not_signed_by_the_credential(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            with _provider_process(tmp_path, r) as provider:
                voter = derive_credential_key(credential(0), ELECTION)
                stranger = derive_credential_key(credential(3), ELECTION)
                request = identity_pb2.AttestRequest(
                    election_id=ELECTION,
                    credential_key=bytes(voter.verify_key),
                    ballot_digest=bytes(32),
                    identity_check=second_factor(0),
                    request_signature=attestation.sign_request(stranger, CHAIN_ID, ELECTION, bytes(32)),
                )
                async with GatewayClient(provider.target) as client:
                    with pytest.raises(GatewayError, match="UNAUTHENTICATED: the ask is not signed"):
                        await client._call(client._identity.Attest, request, 5.0)

    asyncio.run(scenario())


def test_configs_say_where_the_provider_is_and_refuse_both_places(tmp_path: Path) -> None:
    genesis = tmp_path / "genesis.json"
    genesis.write_text("{}")
    both = tmp_path / "gateway.toml"
    both.write_text(
        f'listen = "127.0.0.1:1"\ngenesis = "{genesis}"\ninsecure_plaintext = true\n'
        'identity_store = "s"\nidentity_provider_key = "k"\nidentity_provider = "127.0.0.1:2"\n'
    )
    with pytest.raises(ConfigError, match="not both"):
        load_config(both)
    provider = tmp_path / "identity-provider.toml"
    provider.write_text(f'listen = "0.0.0.0:7200"\ngenesis = "{genesis}"\nkey = "k"\nstore = "s"\n')
    with pytest.raises(ConfigError, match="loopback only"):
        load_provider_config(provider)
