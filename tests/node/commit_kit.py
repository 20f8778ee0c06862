"""A validator's shell whose store holds a one-process chain's blocks, for the commit path:
`shell.validity`, `shell.committer` (tests and bench.validator_loop)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from election.app import ElectionApp
from node.consensus import Certificate, Commit
from node.ledger.store import Store
from node.shell import NodeShell
from node.verify_pool import VerifyPool
from proto.votestore.v1 import ledger_pb2
from tests.ledger.harness import BLOCK_MS, CHAIN_ID, Chain
from tests.node.shell_kit import shell_on, site
from votestore.blocks import evidence_root, tx_root
from votestore.encoding import block_id, canonical


def stored_shell(tmp: Path, chain: Chain, pool: VerifyPool | None) -> NodeShell:
    """A shell whose store holds `chain`'s blocks (certificates left empty: nothing here checks
    them) and whose app reads that store (close `shell.store` after)."""
    at = site(tmp, pool)
    store = at.open_store()
    app = ElectionApp(chain.policy, store.app_reader())
    for ctx, txs in chain.blocks:
        outcome = app.execute_block(ctx, txs)
        block = _block_on(store, txs, ctx.time_ms)
        store.commit_block(
            block, ledger_pb2.CommitCertificate(), outcome.results, outcome.app_hash, outcome.writes
        )
        app.commit(outcome)
    return shell_on(at, store, app, pool)


def next_block(shell: NodeShell, txs: Sequence[bytes], time_ms: int | None = None) -> ledger_pb2.Block:
    """The block a proposer would make of `txs` on the shell's tip, BLOCK_MS after it by default."""
    return _block_on(shell.store, txs, time_ms)


def _block_on(store: Store, txs: Sequence[bytes], time_ms: int | None) -> ledger_pb2.Block:
    tip = store.tip
    header = ledger_pb2.BlockHeader(
        chain_id=CHAIN_ID,
        height=tip.height + 1,
        time_ms=tip.time_ms + BLOCK_MS if time_ms is None else time_ms,
        prev_block_hash=tip.block_id,
        tx_root=tx_root(txs),
        app_hash=tip.app_hash,
        results_hash=tip.results_hash,
        proposer=1,
        evidence_hash=evidence_root([]),
    )
    return ledger_pb2.Block(header=header, txs=txs)


def decided(block: ledger_pb2.Block) -> Commit:
    """The core's Commit action for `block` (no signatures: the shell does not check them)."""
    identity = block_id(block.header)
    height = block.header.height
    return Commit(
        height, identity, canonical(block), Certificate(height, 0, identity, ()), block.header.proposer
    )
