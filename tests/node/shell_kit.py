"""A validator's shell in this process, for its intake: a real block store, a given app and pool,
no consensus and no peers (tests and bench.validator_loop)."""

from __future__ import annotations

from pathlib import Path

import nacl.signing

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
from node.config import DEFAULT_MEMPOOL_MAX_TXS, NodeConfig
from node.ledger.store import Store
from node.metrics import NodeMetrics
from node.shell import NodeShell
from node.verify_pool import VerifyPool
from tests.ledger.harness import ADMIN, CHAIN_ID
from votestore.genesis import Genesis, Validator

VALIDATORS = 4


def intake_shell(
    tmp: Path, app: ElectionApp, pool: VerifyPool | None, mempool_max_txs: int = DEFAULT_MEMPOOL_MAX_TXS
) -> NodeShell:
    """Validator 0 of a made-up genesis over `app`'s state and an empty store under `tmp`
    (close `shell.store` after)."""
    keys = [bytes(nacl.signing.SigningKey.generate().verify_key) for _ in range(VALIDATORS)]
    validators = tuple(Validator(i, f"v{i}", key, f"127.0.0.1:{1 + i}") for i, key in enumerate(keys))
    genesis = Genesis(CHAIN_ID, 0, validators, (bytes(ADMIN.verify_key),))
    config = NodeConfig(
        key_file=tmp / "key",
        genesis=tmp / "genesis",
        listen="127.0.0.1:0",
        data_dir=tmp / "store",
        mempool_max_txs=mempool_max_txs,
        verify_workers=0 if pool is None else pool.workers,
    )
    return NodeShell(
        genesis=genesis,
        index=0,
        config=config,
        store=Store(tmp / "store", genesis, genesis_app_hash(CHAIN_ID)),
        app=app,
        consensus_factory=lambda *_: None,  # type: ignore[arg-type,return-value]  # intake needs none
        metrics=NodeMetrics(),
        pool=pool,
    )
