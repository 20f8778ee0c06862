"""The peer port and the public API are two listeners, each serving only its own role.

What must hold: an observer let through to the public API (`listen`) cannot open a peer stream
(`Peer.Connect` answers UNIMPLEMENTED), and a validator's peer port (`peer_listen`) takes no
transaction and answers no public read but the block fetch catch-up needs. A NetworkPolicy that
opens one port then opens one role (deploy/k8s). On the old node both were one port: the public
address answered `Peer.Connect` with a Challenge.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from ops.cluster import LocalNet
from proto.votestore.v1 import node_pb2, node_pb2_grpc, peer_pb2

RPC_TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNet]:
    with LocalNet.create(tmp_path_factory.mktemp("two-ports")) as cluster:
        cluster.start_all()
        cluster.wait_height(3)  # four validators commit, so peers found each other on peer_listen
        yield cluster


def _connect(address: str) -> grpc.StatusCode:
    """Open Peer.Connect and read the first answer (an honest peer port sends a Challenge)."""
    with grpc.insecure_channel(address) as channel:
        connect = channel.stream_stream(
            "/votestore.v1.Peer/Connect",
            request_serializer=peer_pb2.PeerMessage.SerializeToString,
            response_deserializer=peer_pb2.PeerMessage.FromString,
        )
        call = connect(iter(()), timeout=RPC_TIMEOUT_S)
        try:
            first = next(call)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[attr-defined,no-any-return]
        assert first.WhichOneof("kind") == "challenge", first
        call.cancel()
        return grpc.StatusCode.OK


def _code(call: grpc.UnaryUnaryMultiCallable, request: object) -> grpc.StatusCode:
    try:
        call(request, timeout=RPC_TIMEOUT_S)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


def test_the_public_port_opens_no_peer_stream(net: LocalNet) -> None:
    for i in range(net.genesis.n):
        assert _connect(net.addresses[i]) == grpc.StatusCode.UNIMPLEMENTED, i
        assert _connect(net.peer_addresses[i]) == grpc.StatusCode.OK, i


def test_the_peer_port_takes_no_transaction_and_serves_no_public_read(net: LocalNet) -> None:
    with grpc.insecure_channel(net.peer_addresses[0]) as channel:
        stub = node_pb2_grpc.NodeStub(channel)
        submit = node_pb2.SubmitTxRequest(tx=b"\x00" * 8)
        assert _code(stub.SubmitTx, submit) == grpc.StatusCode.UNIMPLEMENTED
        assert _code(stub.SubmitTxBatch, node_pb2.SubmitTxBatchRequest()) == grpc.StatusCode.UNIMPLEMENTED
        assert _code(stub.GetStatus, node_pb2.GetStatusRequest()) == grpc.StatusCode.UNIMPLEMENTED
        assert _code(stub.ListElections, node_pb2.ListElectionsRequest()) == grpc.StatusCode.UNIMPLEMENTED
        watch = stub.WatchCommits(node_pb2.WatchCommitsRequest(), timeout=RPC_TIMEOUT_S)
        with pytest.raises(grpc.RpcError) as refused:
            next(watch)
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]
        # catch-up's block fetch is the one Node method a peer port serves
        blocks = list(
            stub.GetBlocks(node_pb2.GetBlocksRequest(from_height=1, to_height=2), timeout=RPC_TIMEOUT_S)
        )
    assert [b.block.header.height for b in blocks] == [1, 2]


def test_the_public_port_serves_the_node_api(net: LocalNet) -> None:
    with grpc.insecure_channel(net.addresses[0]) as channel:
        status = node_pb2_grpc.NodeStub(channel).GetStatus(node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S)
    assert status.height >= 3
