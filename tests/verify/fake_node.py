"""An in-process stand-in for one node's public `Node` API, serving blocks of a kit chain.

Only for unit tests of the verifier's network side (sources, export, follower); the acceptance
tests against real node processes use tests/cluster.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent import futures

import grpc

from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from tests.verify import kit
from votestore.encoding import block_id


class FakeNode(node_pb2_grpc.NodeServicer):
    """Serves `blocks[:height]`; tests move `height` to make the node commit."""

    def __init__(
        self,
        blocks: Sequence[ledger_pb2.CommittedBlock],
        states: Sequence[Sequence[election_pb2.ElectionState]],
    ) -> None:
        assert len(blocks) == len(states), (len(blocks), len(states))
        self.blocks = list(blocks)
        self.states = list(states)
        self.height = len(self.blocks)

    @property
    def elections(self) -> dict[str, election_pb2.ElectionState]:
        """What the node's state holds at its current height."""
        served = self.states[self.height - 1] if self.height else []
        return {e.definition.election_id: e for e in served}

    def GetStatus(
        self, request: node_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetStatusResponse:
        last = block_id(self.blocks[self.height - 1].block.header) if self.height else b""
        return node_pb2.GetStatusResponse(
            chain_id=kit.CHAIN_ID, height=self.height, last_block_hash=last, genesis_hash=kit.GENESIS.hash()
        )

    def GetBlocks(
        self, request: node_pb2.GetBlocksRequest, context: grpc.ServicerContext
    ) -> Iterator[ledger_pb2.CommittedBlock]:
        last = self.height if request.to_height == 0 else min(request.to_height, self.height)
        yield from self.blocks[request.from_height - 1 : last]

    def ListElections(
        self, request: node_pb2.ListElectionsRequest, context: grpc.ServicerContext
    ) -> node_pb2.ListElectionsResponse:
        return node_pb2.ListElectionsResponse(election_ids=sorted(self.elections))

    def GetElection(
        self, request: node_pb2.GetElectionRequest, context: grpc.ServicerContext
    ) -> election_pb2.ElectionState:
        record = self.elections.get(request.election_id)
        if record is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown election")
        return record


def serve(node: FakeNode) -> tuple[grpc.Server, str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    node_pb2_grpc.add_NodeServicer_to_server(node, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
