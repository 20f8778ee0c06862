"""A validator serving TLS also answers gRPC health in plaintext on `health_port`, and nothing
else there: what the kubelet's grpc probes (no TLS) ask. Real processes."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ops.cluster import LocalNet, free_port
from proto.votestore.v1 import node_pb2, node_pb2_grpc

pytestmark = pytest.mark.cluster


def test_a_tls_validator_answers_health_in_plaintext_on_its_health_port(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", tls=True) as net:
        port = free_port()
        config = net.config_path(0)
        config.write_text(f"health_port = {port}\n" + config.read_text())
        net.start_all()
        net.wait_ready()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as refused:
                node_pb2_grpc.NodeStub(channel).GetStatus(node_pb2.GetStatusRequest(), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]
