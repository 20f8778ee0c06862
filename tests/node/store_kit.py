"""A store holding a chain of empty blocks with real certificates (3 of 4 genesis validators'
precommits), written through the store's own commit path: for the start-up check's tests and
bench.startup."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import nacl.signing

from election.app import ElectionApp
from election.app_hash import genesis_app_hash
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


def open_store(path: Path) -> Store:
    return Store(path, GENESIS, genesis_app_hash(GENESIS.chain_id))


def grow(store: Store, blocks: int, evidence: Sequence[ledger_pb2.Evidence] = ()) -> None:
    """Commit `blocks` empty blocks on the store's tip, each with a real commit certificate; the
    first carries `evidence`."""
    app = ElectionApp(ChainPolicy.from_genesis(GENESIS), store.app_reader())
    empty = tx_root([])
    for grown in range(blocks):
        carried = list(evidence) if grown == 0 else []
        tip = store.tip
        ctx = BlockContext(tip.height + 1, tip.time_ms + BLOCK_MS)
        outcome = app.execute_block(ctx, [])
        header = ledger_pb2.BlockHeader(
            chain_id=GENESIS.chain_id,
            height=ctx.height,
            time_ms=ctx.time_ms,
            prev_block_hash=tip.block_id,
            tx_root=empty,
            app_hash=tip.app_hash,
            results_hash=tip.results_hash,
            proposer=ctx.height % len(KEYS),
            evidence_hash=evidence_root(carried),
        )
        identity = block_id(header)
        certificate = ledger_pb2.CommitCertificate(height=ctx.height, round=0, block_id=identity)
        for i in range(3):
            message = vote_signing_bytes(GENESIS.chain_id, ledger_pb2.PRECOMMIT, ctx.height, 0, i, identity)
            certificate.signatures.add(validator=i, signature=KEYS[i].sign(message).signature)
        store.commit_block(
            ledger_pb2.Block(header=header, evidence=carried),
            certificate,
            outcome.results,
            outcome.app_hash,
            outcome.writes,
        )
        app.commit(outcome)


def flip_byte(path: Path, key: bytes) -> None:
    """Flip one bit in the middle of the record at `key` of a closed store."""
    import plyvel

    db = plyvel.DB(str(path))
    try:
        value = bytearray(db.get(key))
        value[len(value) // 2] ^= 0x01
        db.put(key, bytes(value), sync=True)
    finally:
        db.close()


def block_key(height: int) -> bytes:
    return b"b/" + height.to_bytes(8, "big")
