"""An in-process stand-in for one validator's Node service, for NodeClient's unit tests: it
answers SubmitTx with a set intake code, serves a transaction as pending for a set number of
polls and then as committed with a set result, and knows no election."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc

from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore.encoding import tx_hash

CHAIN_ID = "fake-chain"


@dataclass
class FakeNode(node_pb2_grpc.NodeServicer):
    intake: election_pb2.ResultCode.ValueType = election_pb2.OK
    result: election_pb2.ResultCode.ValueType = election_pb2.OK
    pending_polls: int = 1
    submitted: list[bytes] = field(default_factory=list)
    polls: int = 0
    not_yet: int = 0
    """The first `not_yet` submissions are refused KEYGEN_PENDING (a chain whose time trails)."""

    def SubmitTx(
        self, request: node_pb2.SubmitTxRequest, context: grpc.ServicerContext
    ) -> node_pb2.SubmitTxResponse:
        if self.not_yet > 0:
            self.not_yet -= 1
            return node_pb2.SubmitTxResponse(
                tx_hash=tx_hash(request.tx), code=election_pb2.KEYGEN_PENDING, detail="not yet"
            )
        self.submitted.append(request.tx)
        detail = "" if self.intake == election_pb2.OK else "intake says no"
        return node_pb2.SubmitTxResponse(tx_hash=tx_hash(request.tx), code=self.intake, detail=detail)

    def GetTx(self, request: node_pb2.GetTxRequest, context: grpc.ServicerContext) -> ledger_pb2.TxProof:
        known = {tx_hash(raw): raw for raw in self.submitted}
        if request.tx_hash not in known:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such transaction committed or pending")
        self.polls += 1
        proof = ledger_pb2.TxProof(tx_hash=request.tx_hash, tx=known[request.tx_hash])
        if self.polls > self.pending_polls:
            proof.header.CopyFrom(ledger_pb2.BlockHeader(chain_id=CHAIN_ID, height=7))
            detail = "" if self.result == election_pb2.OK else "block says no"
            proof.result.CopyFrom(election_pb2.TxResult(code=self.result, detail=detail))
        return proof

    def GetStatus(
        self, request: node_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetStatusResponse:
        return node_pb2.GetStatusResponse(chain_id=CHAIN_ID, height=7)

    def GetElection(
        self, request: node_pb2.GetElectionRequest, context: grpc.ServicerContext
    ) -> election_pb2.ElectionState:
        context.abort(grpc.StatusCode.NOT_FOUND, f"no election {request.election_id!r}")
        raise AssertionError("abort raises")


@contextmanager
def serving(node: FakeNode) -> Iterator[str]:
    """Serve `node` on a free 127.0.0.1 port; yields its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    node_pb2_grpc.add_NodeServicer_to_server(node, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
