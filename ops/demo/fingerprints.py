"""Each node's ledger fingerprint at one height they all hold: the block hash there and the app
hash after it (carried in the next header). Nodes keep committing empty blocks, so the height is
fixed first and then asked of every node, rather than each node's latest status compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import grpc

from ops.demo.outcome import Fingerprint
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from votestore.encoding import block_id
from votestore.errors import VotestoreError
from votestore.genesis import Genesis

RPC_TIMEOUT_S: Final = 10.0


class FingerprintError(VotestoreError):
    """A node did not serve the blocks at the fingerprint height."""


def fingerprints(genesis: Genesis, at_height: int) -> tuple[Fingerprint, ...]:
    """Every validator's block hash at `at_height` and app hash after it (from header at_height+1),
    so every node must have committed at_height + 1."""
    assert at_height >= 1, at_height
    prints = []
    for validator in genesis.validators:
        request = node_pb2.GetBlocksRequest(from_height=at_height, to_height=at_height + 1)
        try:
            with grpc.insecure_channel(validator.public_address) as channel:
                blocks = list(node_pb2_grpc.NodeStub(channel).GetBlocks(request, timeout=RPC_TIMEOUT_S))
        except grpc.RpcError as exc:
            why = exc.code().name if isinstance(exc, grpc.Call) else str(exc)
            raise FingerprintError(f"{validator.name} did not serve height {at_height}: {why}") from None
        heights = [b.block.header.height for b in blocks]
        if heights != [at_height, at_height + 1]:
            raise FingerprintError(
                f"{validator.name} served heights {heights}, not {at_height}..{at_height + 1}"
            )
        prints.append(
            Fingerprint(
                validator.name,
                validator.public_address,
                at_height,
                block_id(blocks[0].block.header),
                blocks[1].block.header.app_hash,
            )
        )
    return tuple(prints)


def common_height(statuses: Sequence[node_pb2.GetStatusResponse]) -> int:
    """The highest height whose successor every node has committed."""
    return min(s.height for s in statuses) - 1
