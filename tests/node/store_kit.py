"""A store holding a chain of empty blocks with real certificates (3 of 4 genesis validators'
precommits), written through the store's own commit path: for the start-up check's tests and
bench.startup."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import nacl.signing

from election import state_keys
from election.app import ElectionApp
from election.app_hash import genesis_app_hash, next_app_hash
from election.policy import BlockContext, ChainPolicy
from node.ledger.store import Store
from proto.votestore.v1 import ledger_pb2
from votestore.blocks import evidence_root, tx_root
from votestore.encoding import block_id, vote_signing_bytes
from votestore.genesis import Genesis, Validator

KEYS: Final = tuple(nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(4))
BLOCK_MS: Final = 1000
GENESIS: Final = Genesis(
    chain_id="store-kit",
    genesis_time_ms=1_700_000_000_000,
    validators=tuple(
        Validator(i, f"v{i}", bytes(k.verify_key), f"127.0.0.1:{7000 + i}") for i, k in enumerate(KEYS)
    ),
    admins=(bytes(KEYS[0].verify_key),),
)


def open_store(path: Path, genesis: Genesis = GENESIS) -> Store:
    return Store(path, genesis, genesis_app_hash(genesis.chain_id))


def grow(store: Store, blocks: int, evidence: Sequence[ledger_pb2.Evidence] = ()) -> None:
    """Commit `blocks` empty blocks on the store's tip, each with a real commit certificate; the
    first carries `evidence`."""
    app = ElectionApp(ChainPolicy.from_genesis(store.genesis), store.app_reader())
    for grown in range(blocks):
        commit(store, app, [], evidence=evidence if grown == 0 else ())


def commit(
    store: Store,
    app: ElectionApp,
    txs: Sequence[bytes],
    time_ms: int | None = None,
    evidence: Sequence[ledger_pb2.Evidence] = (),
) -> None:
    """Execute `txs` as the next block (BLOCK_MS after the tip unless `time_ms`) and commit it
    with a real commit certificate (3 of the 4 KEYS: the store's genesis must have them)."""
    tip = store.tip
    ctx = BlockContext(tip.height + 1, tip.time_ms + BLOCK_MS if time_ms is None else time_ms)
    outcome = app.execute_block(ctx, txs)
    block, certificate = _certified(store, ctx, txs, evidence)
    store.commit_block(block, certificate, outcome.results, outcome.app_hash, outcome.writes)
    app.commit(outcome)


def commit_writes(store: Store, writes: Mapping[bytes, bytes | None]) -> None:
    """Commit an empty block, with a real certificate, whose state writes are `writes` as given
    (not executed: a bench's way to a large state fast; the app hash chain commits to them as to
    any block's writes, so every check of the store holds)."""
    tip = store.tip
    ctx = BlockContext(tip.height + 1, tip.time_ms + BLOCK_MS)
    app_hash = next_app_hash(tip.app_hash, writes)
    block, certificate = _certified(store, ctx, [])
    meta = {
        state_keys.META_HEIGHT: struct.pack(">q", ctx.height),
        state_keys.META_TIME: struct.pack(">q", ctx.time_ms),
        state_keys.META_APP_HASH: app_hash,
    }
    store.commit_block(block, certificate, [], app_hash, {**writes, **meta})


def add_roll(store: Store, election_id: str, voters: int, per_block: int) -> None:
    """`voters` roll entries of `election_id` (credential keys sha256(i)), `per_block` a block."""
    group = state_keys.encode_group(0)
    for first in range(0, voters, per_block):
        commit_writes(
            store,
            {
                state_keys.roll_entry(election_id, hashlib.sha256(i.to_bytes(8, "big")).digest()): group
                for i in range(first, min(voters, first + per_block))
            },
        )


def _certified(
    store: Store,
    ctx: BlockContext,
    txs: Sequence[bytes],
    evidence: Sequence[ledger_pb2.Evidence] = (),
) -> tuple[ledger_pb2.Block, ledger_pb2.CommitCertificate]:
    genesis = store.genesis
    tip = store.tip
    header = ledger_pb2.BlockHeader(
        chain_id=genesis.chain_id,
        height=ctx.height,
        time_ms=ctx.time_ms,
        prev_block_hash=tip.block_id,
        tx_root=tx_root(txs),
        app_hash=tip.app_hash,
        results_hash=tip.results_hash,
        proposer=ctx.height % len(KEYS),
        evidence_hash=evidence_root(list(evidence)),
    )
    identity = block_id(header)
    certificate = ledger_pb2.CommitCertificate(height=ctx.height, round=0, block_id=identity)
    for i in range(3):
        message = vote_signing_bytes(genesis.chain_id, ledger_pb2.PRECOMMIT, ctx.height, 0, i, identity)
        certificate.signatures.add(validator=i, signature=KEYS[i].sign(message).signature)
    return ledger_pb2.Block(header=header, txs=txs, evidence=evidence), certificate


def genesis_for(chain_id: str, admins: Sequence[bytes], genesis_time_ms: int) -> Genesis:
    """GENESIS's validators under another chain id and admins (a chain of tests.ledger.harness)."""
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=genesis_time_ms,
        validators=GENESIS.validators,
        admins=tuple(admins),
    )


def flip_byte(path: Path, key: bytes, at: int | None = None) -> None:
    """Flip one bit of the record at `key` of a closed store: at byte `at`, else in the middle."""
    import plyvel

    db = plyvel.DB(str(path))
    try:
        value = bytearray(db.get(key))
        value[len(value) // 2 if at is None else at] ^= 0x01
        db.put(key, bytes(value), sync=True)
    finally:
        db.close()


def block_key(height: int) -> bytes:
    return b"b/" + height.to_bytes(8, "big")
