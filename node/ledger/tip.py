"""What the next block must link to, and the check of a block against it."""

from __future__ import annotations

from dataclasses import dataclass

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import check_block
from votestore.genesis import Genesis


@dataclass(frozen=True, slots=True)
class Tip:
    """What the next block must link to."""

    height: int
    block_id: bytes
    time_ms: int
    app_hash: bytes
    results_hash: bytes


def check_child(genesis: Genesis, parent: Tip, block: ledger_pb2.Block) -> bytes:
    """Check `block` as the one after `parent` (votestore.blocks.check_block); return its id."""
    return check_block(
        genesis.chain_id,
        block,
        height=parent.height + 1,
        prev_block_id=parent.block_id,
        prev_time_ms=parent.time_ms,
        app_hash=parent.app_hash,
        results_hash=parent.results_hash,
        validator_count=genesis.n,
    )
