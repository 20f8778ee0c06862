"""TLS from the config's certificate and key, gRPC health and reflection, the metrics registry."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
from pathlib import Path

import grpc
import grpc.aio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway import server
from gateway.config import TlsFiles
from ops.cluster import free_port
from tests.gateway.fake_node import ELECTION
from tests.gateway.harness import Rig, rig
from votestore.client.gateway_client import GatewayClient, GatewayError

NOT_BEFORE = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def _self_signed(directory: Path) -> TlsFiles:
    key = ec.derive_private_key(0x5EED, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_BEFORE + datetime.timedelta(days=36500))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(cert=directory / "gw.crt", key=directory / "gw.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def test_tls_health_and_reflection(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        tls = _self_signed(tmp_path)
        health_port = free_port()
        secure = await server.start(dataclasses.replace(r.running.config, tls=tls, health_port=health_port))
        target = f"127.0.0.1:{secure.port}"
        try:
            # What a Kubernetes grpc probe (no TLS) asks: health alone, in plaintext, on its own port.
            async with grpc.aio.insecure_channel(f"127.0.0.1:{health_port}") as probe:
                answer = await health_pb2_grpc.HealthStub(probe).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
                reflection_call = reflection_pb2_grpc.ServerReflectionStub(probe).ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
                )
                try:
                    [_ async for _ in reflection_call]
                    raise AssertionError("the health port serves more than health")
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
            async with GatewayClient(target, root_certificates=tls.cert.read_bytes()) as client:
                info = await client.election(ELECTION)
            assert info.state.definition.election_id == ELECTION
            credentials = grpc.ssl_channel_credentials(tls.cert.read_bytes())
            async with grpc.aio.secure_channel(target, credentials) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                for service in ("", "votestore.v1.Gateway"):
                    answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                    assert answer.status == health_pb2.HealthCheckResponse.SERVING
                stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
                )
                names = {s.name async for reply in stream for s in reply.list_services_response.service}
                assert {"votestore.v1.Gateway", "grpc.health.v1.Health"} <= names
            async with grpc.aio.insecure_channel(target) as plain:
                stub = health_pb2_grpc.HealthStub(plain)
                try:
                    await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    raise AssertionError("a plaintext call to a TLS port answered")
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            async with GatewayClient(target) as plaintext_client:
                try:
                    await plaintext_client.election(ELECTION)
                    raise AssertionError("a plaintext client was answered by a TLS gateway")
                except GatewayError as refused:
                    assert refused.status == "UNAVAILABLE"
                    assert "over plaintext" in refused.message and "--tls-ca" in refused.message, refused
            served = secure.service.metrics.registry.get_sample_value(
                "votestore_gateway_requests_total", {"method": "GetElection", "code": "OK"}
            )
            assert served == 1
        finally:
            await server.stop(secure)

    async def main() -> None:
        async with rig(tmp_path) as r:
            await scenario(r)

    asyncio.run(main())
