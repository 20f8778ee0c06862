"""Replay of the agreed chain through the node's own pure election state machine.

The verifier never trusts a stored result: every transaction is executed again from genesis on a
MemoryKV, so each result, app hash and election state it compares is its own. The expensive part —
signatures and proofs — can run first in a process pool (`workers` > 1); a transaction the pool
finds valid is handed to the state machine as verified, every other one is judged by the state
machine itself, inline, exactly as a node judges it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

from election.app import ElectionApp
from election.kv import MemoryKV
from election.policy import BlockContext, ChainPolicy
from election.stateless import PROOF_KINDS, ElectionParams, verify_tx_stateless
from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.encoding import decode_signed_tx, tx_hash, tx_kind
from votestore.errors import DecodeError
from votestore.genesis import Genesis

PARAMETER_KINDS: Final = frozenset({"election_create", "election_open"})
"""Transactions that record an election's parameters: a pre-verification window ends after them,
so the ballots that follow are checked in the pool against parameters already replayed."""
WINDOW_TXS: Final = 4096
"""Transactions pre-verified together before their blocks are replayed in order."""
TASK_TXS: Final = 64
"""Transactions per pool task: large enough to amortise pickling, small enough to balance."""


def verify_batch(chain_id: str, params: ElectionParams, raws: Sequence[bytes]) -> list[bool]:
    """Top-level (picklable) pool task: True where signature and proofs hold."""
    return [verify_tx_stateless(chain_id, raw, params).code == election_pb2.OK for raw in raws]


def _records_parameters(committed: ledger_pb2.CommittedBlock) -> bool:
    for raw in committed.block.txs:
        try:
            _, tx = decode_signed_tx(raw)
        except DecodeError:
            continue
        if tx_kind(tx) in PARAMETER_KINDS:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Replayed:
    height: int
    app_hash_before: bytes
    """What the block's header must carry as app_hash."""
    results: tuple[election_pb2.TxResult, ...]
    app_hash: bytes
    """The state hash after the block: what the next header must carry."""
    pool_verified: int
    """Transactions whose proofs the worker pool checked."""


class Replayer:
    """Owns the replayed state; feed it the agreed blocks in height order."""

    def __init__(self, genesis: Genesis, workers: int) -> None:
        assert workers >= 1, workers
        self._chain_id = genesis.chain_id
        self.kv = MemoryKV()
        self.app = ElectionApp(ChainPolicy.from_genesis(genesis), self.kv)
        self._pool: Executor | None = ProcessPoolExecutor(workers) if workers > 1 else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _preverify(self, blocks: Sequence[ledger_pb2.CommittedBlock]) -> set[bytes]:
        """Hashes of proof-bearing transactions found valid against parameters already recorded.

        Parameters of an election never change once recorded, so those known before the window
        are those the state machine will use; a transaction whose election (or key) is recorded
        inside the window is left to the state machine.
        """
        if self._pool is None:
            return set()
        groups: dict[int, tuple[ElectionParams, list[bytes]]] = {}
        params_by_election: dict[str, ElectionParams | None] = {}
        for committed in blocks:
            for raw in committed.block.txs:
                try:
                    _, tx = decode_signed_tx(raw)
                except DecodeError:
                    continue
                kind = tx_kind(tx)
                if kind not in PROOF_KINDS:
                    continue
                election_id = getattr(tx, kind).election_id
                if election_id not in params_by_election:
                    params_by_election[election_id] = self.app.params_for(raw)
                params = params_by_election[election_id]
                if params is None or (kind != "dkg_deal" and not params.election_key):
                    continue
                groups.setdefault(id(params), (params, []))[1].append(raw)
        futures = []
        for params, raws in groups.values():
            for at in range(0, len(raws), TASK_TXS):
                chunk = raws[at : at + TASK_TXS]
                futures.append((chunk, self._pool.submit(verify_batch, self._chain_id, params, chunk)))
        verified: set[bytes] = set()
        for chunk, future in futures:
            verified.update(tx_hash(raw) for raw, ok in zip(chunk, future.result(), strict=True) if ok)
        return verified

    def replay(self, blocks: Sequence[ledger_pb2.CommittedBlock]) -> Iterator[Replayed]:
        """Execute each block (already known to link and be certified) and commit it."""
        at = 0
        while at < len(blocks):
            end = at + 1
            txs = len(blocks[at].block.txs)
            while (
                end < len(blocks)
                and not _records_parameters(blocks[end - 1])
                and txs + len(blocks[end].block.txs) <= WINDOW_TXS
            ):
                txs += len(blocks[end].block.txs)
                end += 1
            window = blocks[at:end]
            verified = self._preverify(window)
            for committed in window:
                yield self._execute(committed, verified)
            at = end

    def _execute(self, committed: ledger_pb2.CommittedBlock, verified: set[bytes]) -> Replayed:
        header = committed.block.header
        before = self.app.app_hash
        ctx = BlockContext(header.height, header.time_ms)
        outcome = self.app.execute_block(ctx, list(committed.block.txs), verified)
        self.kv.apply(outcome.writes)
        self.app.commit(outcome)
        used = sum(1 for raw in committed.block.txs if tx_hash(raw) in verified)
        return Replayed(header.height, before, outcome.results, outcome.app_hash, used)

    def election(self, election_id: str) -> election_pb2.ElectionState | None:
        return self.app.election_state(election_id)

    def elections(self) -> list[election_pb2.ElectionState]:
        records = [self.app.election_state(i) for i in self.app.list_elections()]
        return [r for r in records if r is not None]
