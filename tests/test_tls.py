"""Validator TLS identities: certificates a genesis key issued are accepted, nothing else is.

Real gRPC on loopback for the handshake cases: a client dialling validator i accepts only a server
holding a certificate that i's genesis key issued.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import nacl.signing
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from votestore import tls
from votestore.channels import ValidatorDialer
from votestore.errors import ConfigError
from votestore.genesis import Genesis, Timeouts, Validator
from votestore.keys import new_signing_key

CHAIN = "tls-test"
N = 4


def _net(tmp: Path) -> tuple[Genesis, list[nacl.signing.SigningKey]]:
    keys = [new_signing_key() for _ in range(N)]
    validators = tuple(
        Validator(i, f"s{i}", bytes(k.verify_key), f"127.0.0.1:{7000 + i}") for i, k in enumerate(keys)
    )
    genesis = Genesis(CHAIN, int(time.time() * 1000), validators, (bytes(keys[0].verify_key),), Timeouts())
    for i, key in enumerate(keys):
        tls.write_identity(
            tls.issue(key, CHAIN, i), tmp / f"{i}.tls.key", tmp / f"{i}.tls.pem", tmp / f"{i}.ca.pem"
        )
    (tmp / "cas.pem").write_bytes(b"".join((tmp / f"{i}.ca.pem").read_bytes() for i in range(N)))
    return genesis, keys


def test_bundle_of_genesis_issued_cas_is_accepted(tmp_path: Path) -> None:
    genesis, keys = _net(tmp_path)
    cas = tls.load_validator_cas(tmp_path / "cas.pem", genesis)
    assert sorted(cas) == list(range(N))
    # The CA certificate is a function of the key: re-making it gives the same bytes.
    assert tls.ca_certificate(keys[2], CHAIN, 2).public_bytes(tls.serialization.Encoding.PEM) == cas[2]
    assert (tmp_path / "0.tls.key").stat().st_mode & 0o777 == 0o600


def test_ca_of_a_key_outside_genesis_is_refused(tmp_path: Path) -> None:
    genesis, _ = _net(tmp_path)
    stranger = tls.issue(new_signing_key(), CHAIN, 1)  # claims to be validator 1
    (tmp_path / "bad.pem").write_bytes((tmp_path / "0.ca.pem").read_bytes() + stranger.ca_pem)
    with pytest.raises(ConfigError, match="is not a genesis validator's CA certificate"):
        tls.load_validator_cas(tmp_path / "bad.pem", genesis)


def test_bundle_missing_a_validator_is_refused(tmp_path: Path) -> None:
    genesis, _ = _net(tmp_path)
    (tmp_path / "three.pem").write_bytes(b"".join((tmp_path / f"{i}.ca.pem").read_bytes() for i in range(3)))
    with pytest.raises(ConfigError, match=r"no CA certificate for validators \[3\]"):
        tls.load_validator_cas(tmp_path / "three.pem", genesis)


def test_node_refuses_to_serve_another_validator_s_certificate(tmp_path: Path) -> None:
    genesis, _ = _net(tmp_path)
    with pytest.raises(ConfigError, match="validator 0's CA certificate"):
        tls.server_credentials(tmp_path / "1.tls.key", tmp_path / "1.tls.pem", genesis, 0)
    with pytest.raises(ConfigError, match="is not the key of the TLS certificate"):
        tls.server_credentials(tmp_path / "1.tls.key", tmp_path / "0.tls.pem", genesis, 0)


def test_plaintext_is_refused_off_loopback() -> None:
    with pytest.raises(ConfigError, match=r"test network\) only; 10\.0\.0\.5:7000 is not"):
        ValidatorDialer.plaintext_to(["127.0.0.1:7000", "10.0.0.5:7000"], "test")
    assert ValidatorDialer.plaintext_to(["127.0.0.1:1", "[::1]:2", "localhost:3"], "test").plaintext


def test_client_accepts_only_the_validator_it_dials(tmp_path: Path) -> None:
    genesis, _ = _net(tmp_path)
    dialer = ValidatorDialer.with_tls(genesis, tmp_path / "cas.pem")

    async def run() -> dict[str, grpc.StatusCode]:
        server = grpc.aio.server()
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        port = server.add_secure_port(
            "127.0.0.1:0", tls.server_credentials(tmp_path / "0.tls.key", tmp_path / "0.tls.pem", genesis, 0)
        )
        await server.start()
        address = f"127.0.0.1:{port}"
        seen: dict[str, grpc.StatusCode] = {}
        attempts = {
            "as validator 0": dialer.aio(0, address),
            "as validator 1": dialer.aio(1, address),  # validator 0 cannot answer for validator 1
            "plaintext": grpc.aio.insecure_channel(address),
        }
        try:
            for name, channel in attempts.items():
                async with channel:
                    try:
                        await health_pb2_grpc.HealthStub(channel).Check(
                            health_pb2.HealthCheckRequest(), timeout=5
                        )
                        seen[name] = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as exc:
                        seen[name] = exc.code()
        finally:
            await server.stop(0)
        return seen

    seen = asyncio.run(run())
    assert seen == {
        "as validator 0": grpc.StatusCode.OK,
        "as validator 1": grpc.StatusCode.UNAVAILABLE,
        "plaintext": grpc.StatusCode.UNAVAILABLE,
    }
