"""A validator's shell in this process: a real block store, a given app and pool, a real
consensus core that is never started, no peers (tests and bench.validator_loop)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
from node.clock import AsyncioClock, Clock
from node.config import DEFAULT_MEMPOOL_MAX_TXS, NodeConfig
from node.core_setup import consensus_for
from node.ledger.store import Store
from node.metrics import NodeMetrics
from node.proposer import BlockValidity
from node.shell import NodeShell
from node.signing import LocalSigner
from node.verify_pool import VerifyPool
from tests.ledger.harness import ADMIN, CHAIN_ID
from votestore.genesis import Genesis, Validator

VALIDATORS = 4


@dataclass(frozen=True, slots=True)
class Site:
    """Validator 0 of a made-up genesis: its key and config, its store under `tmp`/store."""

    genesis: Genesis
    key: nacl.signing.SigningKey
    config: NodeConfig

    def open_store(self) -> Store:
        return Store(self.config.data_dir, self.genesis, genesis_app_hash(CHAIN_ID))


def site(tmp: Path, pool: VerifyPool | None, mempool_max_txs: int = DEFAULT_MEMPOOL_MAX_TXS) -> Site:
    keys = [nacl.signing.SigningKey.generate() for _ in range(VALIDATORS)]
    validators = tuple(
        Validator(i, f"v{i}", bytes(key.verify_key), f"127.0.0.1:{1 + i}") for i, key in enumerate(keys)
    )
    genesis = Genesis(CHAIN_ID, 0, validators, (bytes(ADMIN.verify_key),))
    config = NodeConfig(
        key_file=tmp / "key",
        genesis=tmp / "genesis",
        listen="127.0.0.1:0",
        data_dir=tmp / "store",
        mempool_max_txs=mempool_max_txs,
        verify_workers=0 if pool is None else pool.workers,
    )
    return Site(genesis, keys[0], config)


def shell_on(
    at: Site, store: Store, app: ElectionApp, pool: VerifyPool | None, clock: Clock | None = None
) -> NodeShell:
    """The shell of `at` over `store` and `app`, wired as node.main wires it."""
    clock = AsyncioClock() if clock is None else clock
    validity = BlockValidity(
        genesis=at.genesis, store=store, block_max_bytes=at.config.block_max_bytes, clock=clock
    )
    return NodeShell(
        genesis=at.genesis,
        index=0,
        config=at.config,
        store=store,
        app=app,
        validity=validity,
        consensus=consensus_for(at.genesis, 0, LocalSigner(at.key), store, validity, None),
        metrics=NodeMetrics(),
        pool=pool,
        clock=clock,
    )


def intake_shell(
    tmp: Path,
    app: ElectionApp,
    pool: VerifyPool | None,
    mempool_max_txs: int = DEFAULT_MEMPOOL_MAX_TXS,
    clock: Clock | None = None,
) -> NodeShell:
    """Validator 0 over `app`'s state and an empty store under `tmp` (close `shell.store` after)."""
    at = site(tmp, pool, mempool_max_txs)
    return shell_on(at, at.open_store(), app, pool, clock)
