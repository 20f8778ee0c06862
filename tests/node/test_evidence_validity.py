"""valid(v) on a real store judges a proposed block's evidence by the shared rule
(votestore/evidence.py): a proven double vote inside the window passes; once a block committed
it, the same (validator, height) in a later block — in either order, from another round — makes
the proposal invalid; so does one outside the window. Before this rule a builder could commit
one double vote again in every block it proposed."""

from __future__ import annotations

from pathlib import Path

from node.clock import VirtualClock
from node.proposer import BlockValidity
from proto.votestore.v1 import ledger_pb2
from tests.node.store_kit import BLOCK_MS, GENESIS, KEYS, grow, open_store
from tests.node.test_evidence_pool import signed
from votestore.blocks import evidence_root, tx_root
from votestore.encoding import block_id, canonical
from votestore.evidence import EVIDENCE_WINDOW

OTHER = b"\x07" * 32


def _double(height: int, round_: int = 0, swap: bool = False) -> ledger_pb2.Evidence:
    a = signed(ledger_pb2.PREVOTE, height, round_, OTHER, 1)
    b = signed(ledger_pb2.PREVOTE, height, round_, b"", 1)
    return ledger_pb2.Evidence(vote_a=b, vote_b=a) if swap else ledger_pb2.Evidence(vote_a=a, vote_b=b)


def _proposal(validity: BlockValidity, evidence: list[ledger_pb2.Evidence]) -> tuple[int, bytes, bytes]:
    tip = validity._store.tip
    header = ledger_pb2.BlockHeader(
        chain_id=GENESIS.chain_id,
        height=tip.height + 1,
        time_ms=tip.time_ms + BLOCK_MS,
        prev_block_hash=tip.block_id,
        tx_root=tx_root([]),
        app_hash=tip.app_hash,
        results_hash=tip.results_hash,
        proposer=2,
        evidence_hash=evidence_root(evidence),
    )
    block = ledger_pb2.Block(header=header, evidence=evidence)
    return tip.height + 1, block_id(header), canonical(block)


def _valid(validity: BlockValidity, evidence: list[ledger_pb2.Evidence]) -> bool:
    height, identity, payload = _proposal(validity, evidence)
    return validity(height, frozenset({2}), identity, payload)


def test_valid_v_commits_a_double_vote_once(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db")
    grow(store, EVIDENCE_WINDOW + 10)
    clock = VirtualClock(store.tip.time_ms + 10 * BLOCK_MS)
    validity = BlockValidity(genesis=GENESIS, store=store, block_max_bytes=10**6, clock=clock)
    assert KEYS  # the store kit's genesis keys sign the votes
    height = store.height + 1
    assert _valid(validity, [_double(height - 5)])
    assert not _valid(validity, [_double(height - 5), _double(height - 5, round_=1)])
    assert not _valid(validity, [_double(height - EVIDENCE_WINDOW - 1)]), "outside the window"

    # The block carrying it commits; the node's pool moves valid(v)'s record on.
    validity.committed_evidence.add_block(height, [_double(height - 5)])
    grow(store, 1)
    assert not _valid(validity, [_double(height - 5, swap=True)])
    assert not _valid(validity, [_double(height - 5, round_=3)])
    assert _valid(validity, [_double(height - 4)])


def test_the_record_is_rebuilt_from_the_stored_chain(tmp_path: Path) -> None:
    """After a restart valid(v) knows what the stored blocks committed, for as long as a next
    block could carry it again."""
    store = open_store(tmp_path / "db")
    grow(store, 3)
    grow(store, 2, evidence=[_double(3)])  # block 4 carries it
    clock = VirtualClock(store.tip.time_ms + 10 * BLOCK_MS)
    restarted = BlockValidity(genesis=GENESIS, store=store, block_max_bytes=10**6, clock=clock)
    assert (1, 3) in restarted.committed_evidence
    assert not _valid(restarted, [_double(3, round_=2)])
    grow(store, EVIDENCE_WINDOW - 3)  # tip 102: block 103 is the last that may carry height 3
    assert (1, 3) in BlockValidity(
        genesis=GENESIS, store=store, block_max_bytes=10**6, clock=clock
    ).committed_evidence
    grow(store, 1)
    assert (
        len(
            BlockValidity(genesis=GENESIS, store=store, block_max_bytes=10**6, clock=clock).committed_evidence
        )
        == 0
    )
