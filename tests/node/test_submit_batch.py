"""SubmitTxBatch and GetTxBatch on a real 4-node cluster: answers in request order, each
transaction judged (or proved) as SubmitTx (or GetTx) does it, and bad batches refused with a
status and no traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest

from node.rpc.public import MAX_GET_TX_BATCH, MAX_SUBMIT_BATCH_BYTES, MAX_SUBMIT_BATCH_TXS
from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from tests.cluster import RPC_TIMEOUT_S, election_definition, running_cluster, wait_committed
from votestore import txbuild
from votestore.encoding import MAX_TX_BYTES, tx_hash
from votestore.grpc_service import UNDECODABLE_DETAIL
from votestore.receipts import verify_tx_proof

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNet]:
    with running_cluster(tmp_path_factory.mktemp("submit-batch") / "net") as local:
        yield local


def _batch(net: LocalNet, txs: list[bytes], node: int = 0) -> node_pb2.SubmitTxBatchReply:
    with grpc.insecure_channel(net.addresses[node]) as channel:
        reply: node_pb2.SubmitTxBatchReply = node_pb2_grpc.NodeStub(channel).SubmitTxBatch(
            node_pb2.SubmitTxBatchRequest(txs=txs), timeout=RPC_TIMEOUT_S
        )
        return reply


def _proofs(net: LocalNet, hashes: list[bytes], node: int = 1) -> node_pb2.GetTxBatchReply:
    with grpc.insecure_channel(net.addresses[node]) as channel:
        reply: node_pb2.GetTxBatchReply = node_pb2_grpc.NodeStub(channel).GetTxBatch(
            node_pb2.GetTxBatchRequest(tx_hashes=hashes), timeout=RPC_TIMEOUT_S
        )
        return reply


def _create(net: LocalNet, election_id: str) -> bytes:
    return txbuild.election_create(net.genesis.chain_id, net.admin_key, election_definition(election_id))


def test_answers_come_in_request_order_and_judge_each_transaction(net: LocalNet) -> None:
    first, second = _create(net, "batch-1"), _create(net, "batch-2")
    oversize = b"\x0a" * (MAX_TX_BYTES + 1)
    txs = [first, b"\x0a\x03abc", oversize, second, first]
    reply = _batch(net, txs)
    assert [r.tx_hash for r in reply.results] == [tx_hash(raw) for raw in txs]
    codes = [r.code for r in reply.results]
    assert codes == [election_pb2.OK, election_pb2.MALFORMED, election_pb2.MALFORMED] + [election_pb2.OK] * 2
    assert f"exceeds {MAX_TX_BYTES}" in reply.results[2].detail
    assert reply.results[4].detail in ("already pending", "already committed")
    for raw in (first, second):
        assert wait_committed(net.addresses[3], tx_hash(raw)).result.code == election_pb2.OK
    again = _batch(net, [first], node=2).results[0]
    assert (again.code, again.committed) == (election_pb2.OK, True)
    assert _batch(net, []).results == []


@pytest.mark.parametrize(
    ("call", "items", "message"),
    [
        (_batch, [b"x"] * (MAX_SUBMIT_BATCH_TXS + 1), f"exceeds {MAX_SUBMIT_BATCH_TXS}"),
        (
            _batch,
            [b"\x0a" * MAX_TX_BYTES] * (MAX_SUBMIT_BATCH_BYTES // MAX_TX_BYTES + 1),
            f"bytes exceeds {MAX_SUBMIT_BATCH_BYTES}",
        ),
        (_proofs, [bytes(32)] * (MAX_GET_TX_BATCH + 1), f"exceed {MAX_GET_TX_BATCH}"),
        (_proofs, [bytes(31)], "32 bytes"),
    ],
    ids=["too-many-txs", "too-many-bytes", "too-many-hashes", "short-hash"],
)
def test_a_batch_over_its_caps_is_refused_whole(
    net: LocalNet, call: Callable[[LocalNet, list[bytes]], object], items: list[bytes], message: str
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        call(net, items)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert message in caught.value.details()  # type: ignore[attr-defined]


def test_an_undecodable_batch_is_invalid_argument(net: LocalNet) -> None:
    with grpc.insecure_channel(net.addresses[1]) as channel:
        call = channel.unary_unary("/votestore.v1.Node/SubmitTxBatch")
        with pytest.raises(grpc.RpcError) as caught:
            call(b"\x0a\xff\xff\xff\xff\x0f", timeout=RPC_TIMEOUT_S)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert caught.value.details() == UNDECODABLE_DETAIL  # type: ignore[attr-defined]


def test_get_tx_batch_proves_each_transaction_in_request_order(net: LocalNet) -> None:
    first, second = _create(net, "proofs-1"), _create(net, "proofs-2")
    assert [r.code for r in _batch(net, [first, second]).results] == [election_pb2.OK] * 2
    for raw in (first, second):
        wait_committed(net.addresses[1], tx_hash(raw))
    unknown = bytes(32)
    hashes = [tx_hash(second), unknown, tx_hash(first)]
    proofs = _proofs(net, hashes).proofs
    assert [p.tx_hash for p in proofs] == hashes
    assert proofs[1] == ledger_pb2.TxProof(tx_hash=unknown), "unknown: the hash alone"
    for proof, raw in ((proofs[0], second), (proofs[2], first)):
        assert proof.tx == raw
        verify_tx_proof(net.genesis, proof)  # raises ProofInvalid if it does not check
    assert _proofs(net, []).proofs == []
