"""Four real node processes talking TLS only: peer links, catch-up, the Node API, the verifier and
the gateway, each side checking the other's certificate against genesis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from gateway import server as gateway_server
from gateway.config import GatewayConfig
from ops.cluster import VALIDATOR_CAS, LocalNet
from proto.votestore.v1 import election_pb2, gateway_pb2, gateway_pb2_grpc, node_pb2, node_pb2_grpc
from tests.cluster import election_definition
from votestore import txbuild
from votestore.encoding import tx_hash

pytestmark = pytest.mark.cluster

VOTESTORE = [sys.executable, "-m", "votestore"]
RPC_TIMEOUT_S = 10.0
COMMIT_TIMEOUT_S = 60.0


def _stub(net: LocalNet, i: int) -> tuple[grpc.Channel, node_pb2_grpc.NodeStub]:
    channel = net.dialer.sync(i, net.addresses[i])
    return channel, node_pb2_grpc.NodeStub(channel)


def _submit(net: LocalNet, i: int, raw: bytes) -> None:
    channel, stub = _stub(net, i)
    with channel:
        answer = stub.SubmitTx(node_pb2.SubmitTxRequest(tx=raw), timeout=RPC_TIMEOUT_S)
    assert answer.code == election_pb2.OK, answer.detail


def _wait_committed(net: LocalNet, i: int, digest: bytes) -> None:
    channel, stub = _stub(net, i)
    deadline = time.monotonic() + COMMIT_TIMEOUT_S
    with channel:
        while time.monotonic() < deadline:
            try:
                if stub.GetTx(node_pb2.GetTxRequest(tx_hash=digest), timeout=RPC_TIMEOUT_S).HasField(
                    "header"
                ):
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise AssertionError(f"tx {digest.hex()[:16]} not committed on node {i}:\n{net.log_tail(i)}")


def _votestore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VOTESTORE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _create_elections(net: LocalNet, prefix: str, nodes: list[int]) -> list[bytes]:
    """Eight elections submitted round-robin to `nodes`, each seen committed on node 0."""
    chain = net.genesis.chain_id
    txs = [
        txbuild.election_create(chain, net.admin_key, election_definition(f"{prefix}-{k}")) for k in range(8)
    ]
    for k, raw in enumerate(txs):
        _submit(net, nodes[k % len(nodes)], raw)
    for raw in txs:
        _wait_committed(net, 0, tx_hash(raw))
    return txs


def _gateway_reads(net: LocalNet, election_id: str) -> gateway_pb2.ElectionInfo:
    config = GatewayConfig(
        listen="127.0.0.1:0", genesis=net.genesis_path, validator_cas=net.workdir / VALIDATOR_CAS
    )

    async def run() -> gateway_pb2.ElectionInfo:
        running = await gateway_server.start(config)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                stub = gateway_pb2_grpc.GatewayStub(channel)
                info: gateway_pb2.ElectionInfo = await stub.GetElection(
                    gateway_pb2.GetElectionGatewayRequest(election_id=election_id), timeout=RPC_TIMEOUT_S
                )
                return info
        finally:
            await gateway_server.stop(running)

    return asyncio.run(run())


def test_cluster_runs_on_tls_only(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", tls=True) as net:
        net.start_all()
        net.wait_ready()
        _create_elections(net, "tls", [0, 1, 2, 3])
        # A plaintext client gets nothing from a TLS node.
        with grpc.insecure_channel(net.addresses[0]) as plain, pytest.raises(grpc.RpcError) as refused:
            node_pb2_grpc.NodeStub(plain).GetStatus(node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
        # Catch-up over TLS: node 3 misses blocks while down and fetches them from its peers.
        net.wait_signing()  # else a late starter, still watching, and the killed 3 stall the chain
        net.kill(3)
        later = _create_elections(net, "late", [0, 1, 2])
        net.start(3)
        for raw in later:
            _wait_committed(net, 3, tx_hash(raw))
        # The observer's verifier and the gateway reach the nodes over TLS too.
        cas = str(net.workdir / VALIDATOR_CAS)
        verify = _votestore("verify", "--genesis", str(net.genesis_path), "--validator-cas", cas)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert _gateway_reads(net, "tls-3").state.definition.election_id == "tls-3"
        # The administrator's commands too, told the CA bundle and genesis by the environment.
        tls_env = {"VOTESTORE_VALIDATOR_CAS": cas, "VOTESTORE_GENESIS": str(net.genesis_path)}
        show = _votestore(
            "election", "show", "--node", net.addresses[2], "--election", "tls-3", "--json", env=tls_env
        )
        assert show.returncode == 0 and '"tls-3"' in show.stdout, show.stdout + show.stderr
    for log in sorted(net.workdir.glob("node*.log")):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"
