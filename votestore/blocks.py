"""What a block's header commits to, and the checks anyone can make of a chain of blocks.

Shared by the node (proposing, validating, checking its store at start) and by the verifier,
which must reach the same verdict from the same bytes without any of the node's code.

Header h carries: the hash of header h-1 (empty at h = 1), the Merkle root of its own
transactions, of its evidence and of its readiness votes, and the app hash and results root left
by block h-1 (at h = 1: the state machine's genesis app hash and the empty root).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.encoding import block_id, canonical, verify_signature, vote_signing_bytes
from votestore.errors import VotestoreError
from votestore.hashing import EMPTY_ROOT, merkle_root


class BlockInvalid(VotestoreError):
    """A block that does not fit where it claims to stand in the chain."""


def tx_root(txs: Sequence[bytes]) -> bytes:
    return merkle_root(list(txs))


def results_root(results: Sequence[election_pb2.TxResult]) -> bytes:
    return merkle_root([canonical(r) for r in results])


def evidence_root(evidence: Sequence[ledger_pb2.Evidence]) -> bytes:
    return merkle_root([canonical(e) for e in evidence])


def ready_root(ready: Sequence[ledger_pb2.Vote]) -> bytes:
    """The header's `ready_hash`: empty when the block carries no readiness vote, so a header
    without one encodes (and hashes) as it did before the field existed."""
    return merkle_root([canonical(v) for v in ready]) if ready else b""


GENESIS_RESULTS_ROOT = EMPTY_ROOT

READY_MAX_AGE: Final = 2
"""A readiness vote in block h must be for a height in h − READY_MAX_AGE .. h − 1: recent enough
that it can show its validator took part after whatever made the leader rule skip it (the block
at its own turn, at most h − 2 when the vote is for h − 1; the rule counts it only if it is for
a height after that turn), and old enough that the builder has seen it."""


def readiness(block: ledger_pb2.Block) -> frozenset[tuple[int, int]]:
    """A block's readiness votes as the leader rule reads them: (validator, height of the vote)."""
    return frozenset((v.validator, v.height) for v in block.ready)


def ready_height(heights: Iterable[int], height: int) -> int | None:
    """Of the heights a builder holds a validator's votes for, the one its readiness vote in block
    `height` is for: the newest that check_ready accepts there (the leader rule counts it only if
    it is after the turn its validator missed, so the newest is the one that may count)."""
    return max((h for h in heights if height - READY_MAX_AGE <= h < height), default=None)


def check_vote_signature(
    chain_id: str, validator_keys: Sequence[bytes], vote: ledger_pb2.Vote, what: str
) -> None:
    """A vote of a genesis validator, validly signed by it; raise BlockInvalid naming `what` otherwise."""
    if vote.validator >= len(validator_keys):
        raise BlockInvalid(f"{what} names validator {vote.validator}, not in genesis")
    try:
        message = vote_signing_bytes(
            chain_id, vote.type, vote.height, vote.round, vote.validator, vote.block_id
        )
    except ValueError as exc:
        raise BlockInvalid(f"{what} vote malformed: {exc}") from None
    if not verify_signature(validator_keys[vote.validator], message, vote.signature):
        raise BlockInvalid(f"{what} vote of validator {vote.validator} is not validly signed")


def check_ready(
    chain_id: str, validator_keys: Sequence[bytes], height: int, ready: Sequence[ledger_pb2.Vote]
) -> frozenset[int]:
    """Readiness votes of block `height`: at most one per validator, each a validly signed vote
    (any type, any value, nil too: it shows its signer was live) for a recent height. Returns the
    validators they vouch for; raise BlockInvalid otherwise. A builder can leave a validator out
    (the next correct builder puts it in) but cannot vouch for one that did not sign."""
    seen: set[int] = set()
    for vote in ready:
        if vote.validator in seen:
            raise BlockInvalid(f"two readiness votes of validator {vote.validator}")
        if not height - READY_MAX_AGE <= vote.height < height:
            raise BlockInvalid(f"readiness vote for height {vote.height} in block {height}")
        check_vote_signature(chain_id, validator_keys, vote, "readiness")
        seen.add(vote.validator)
    return frozenset(seen)


def check_evidence(chain_id: str, validator_keys: Sequence[bytes], evidence: ledger_pb2.Evidence) -> None:
    """Two votes by one validator for one (height, round, type), for different blocks, both
    validly signed: proof of equivocation anyone can check. Raise BlockInvalid otherwise."""
    a, b = evidence.vote_a, evidence.vote_b
    if (a.validator, a.height, a.round, a.type) != (b.validator, b.height, b.round, b.type):
        raise BlockInvalid("evidence votes are not for one validator, height, round and type")
    if a.block_id == b.block_id:
        raise BlockInvalid("evidence votes do not conflict")
    for vote in (a, b):
        check_vote_signature(chain_id, validator_keys, vote, "evidence")


def check_header(chain_id: str, block: ledger_pb2.Block, *, height: int, validator_count: int) -> None:
    """Check what a block says of itself, with the genesis file alone: chain id, height, proposer,
    and that its transactions, evidence and readiness votes are the ones its header commits to
    (`check_body`).
    Raise BlockInvalid.

    The node (`check_block`) and the verifier (which judges links against the agreed chain
    instead of a node's own parent) both call this one check."""
    header = block.header
    if header.chain_id != chain_id:
        raise BlockInvalid(f"chain id {header.chain_id!r}, expected {chain_id!r}")
    if header.height != height:
        raise BlockInvalid(f"header height {header.height}, expected {height}")
    if header.proposer >= validator_count:
        raise BlockInvalid(f"proposer {header.proposer} is not a validator")
    check_body(block)


def check_body(block: ledger_pb2.Block) -> None:
    """The body is the one the header names: its block id (the header's hash) covers the
    transactions, evidence and readiness votes only through these roots, so a block with the same header and
    another body is a different block under the same id."""
    header = block.header
    if header.tx_root != tx_root(block.txs):
        raise BlockInvalid("transactions do not match the header's Merkle root")
    if header.evidence_hash != evidence_root(block.evidence):
        raise BlockInvalid("evidence does not match the header's evidence hash")
    if header.ready_hash != ready_root(block.ready):
        raise BlockInvalid("readiness votes do not match the header's ready hash")


def check_block(
    chain_id: str,
    block: ledger_pb2.Block,
    *,
    height: int,
    prev_block_id: bytes,
    prev_time_ms: int,
    app_hash: bytes,
    results_hash: bytes,
    validator_count: int,
) -> bytes:
    """Check `block` as the block at `height` after the given parent state (`check_header`, then
    its links to the parent); return its id."""
    check_header(chain_id, block, height=height, validator_count=validator_count)
    header = block.header
    if header.prev_block_hash != prev_block_id:
        raise BlockInvalid("previous block hash does not link to the stored parent")
    if header.time_ms <= prev_time_ms:
        raise BlockInvalid(f"block time {header.time_ms} not after parent time {prev_time_ms}")
    if header.app_hash != app_hash:
        raise BlockInvalid("app hash differs from the state left by the previous block")
    if header.results_hash != results_hash:
        raise BlockInvalid("results hash differs from the previous block's results")
    return block_id(header)
