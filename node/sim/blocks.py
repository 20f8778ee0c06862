"""The simulator's blocks: a wire `Block` whose header names only the height and its builder,
with a readiness entry per readmitted validator, identified by its hash — and the readings the
core takes of one (valid(v), BuiltBy, ReadyIn). What a simulated node keeps of a committed one.

The node's own blocks (header links, app hash, signed readiness votes) are checked by
`node.proposer.BlockValidity`; the simulator models their outcome for honest and Byzantine
builders, not their bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from google.protobuf.message import DecodeError as ProtobufDecodeError

from node.consensus import Certificate
from proto.votestore.v1 import ledger_pb2
from votestore.blocks import readiness
from votestore.hashing import sha256

CHAIN_ID: Final = "votestore-sim"


@dataclass(frozen=True, slots=True)
class Committed:
    height: int
    block_id: bytes
    payload: bytes
    certificate: Certificate
    proposer: int


def make_value(
    height: int,
    round_: int,
    instance: int,
    validator: int,
    salt: bytes = b"",
    ready: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[bytes, bytes]:
    """(block_id, payload) of the block an instance proposes: a wire `Block` whose header names
    the height and its builder (as a real header names its proposer), with a readiness entry for
    each (validator, vote height) in `ready` (as a block's `ready` list); the id is its hash."""
    block = ledger_pb2.Block(
        header=ledger_pb2.BlockHeader(chain_id=CHAIN_ID, height=height, proposer=validator),
        txs=[f"r={round_};by={instance};".encode() + salt],
        ready=[ledger_pb2.Vote(validator=v, height=h) for v, h in sorted(ready)],
    )
    payload = block.SerializeToString(deterministic=True)
    return sha256(payload), payload


def _block(block_id: bytes, payload: bytes) -> ledger_pb2.Block | None:
    if sha256(payload) != block_id:
        return None
    block = ledger_pb2.Block()
    try:
        block.ParseFromString(payload)
    except ProtobufDecodeError:
        return None
    return block


def _identified(block_id: bytes, payload: bytes) -> ledger_pb2.BlockHeader | None:
    block = _block(block_id, payload)
    return None if block is None else block.header


def sim_valid(height: int, builders: frozenset[int], block_id: bytes, payload: bytes) -> bool:
    """valid(v) in simulation: the id names the payload, whose header names this height and a
    builder among `builders`."""
    header = _identified(block_id, payload)
    return header is not None and header.height == height and header.proposer in builders


def sim_built_by(block_id: bytes, payload: bytes) -> int | None:
    """BuiltBy in simulation: the header's proposer, if the payload is the block the id names."""
    header = _identified(block_id, payload)
    return None if header is None else header.proposer


def sim_ready_in(block_id: bytes, payload: bytes) -> frozenset[tuple[int, int]]:
    """ReadyIn in simulation: (validator, height) of each entry of the block's `ready` list. The
    simulator models a readiness vote as the builder having heard a vote of that validator for a
    recent height (`SimNode._heard`); the signature check on it is votestore.blocks.check_ready's,
    tested on its own."""
    block = _block(block_id, payload)
    return frozenset() if block is None else readiness(block)
