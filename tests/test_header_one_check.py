"""One header check: a block whose header lies about itself is refused by the node's chain check
and by the verifier for the very same reason (`votestore.blocks.check_header`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proto.votestore.v1 import ledger_pb2
from tests.genesis_kit import four_validators
from tools.verify import chain
from votestore.blocks import BlockInvalid, check_block, evidence_root, tx_root
from votestore.hashing import EMPTY_ROOT

CHAIN_ID = "one-header"
KEYS, GENESIS = four_validators(CHAIN_ID, seed=3, port=7200)
HEIGHT = 3
PARENT = b"\x07" * 32
APP_HASH = b"\x08" * 32


def _block() -> ledger_pb2.Block:
    txs = [b"one", b"two"]
    return ledger_pb2.Block(
        header=ledger_pb2.BlockHeader(
            chain_id=CHAIN_ID,
            height=HEIGHT,
            time_ms=100,
            prev_block_hash=PARENT,
            tx_root=tx_root(txs),
            evidence_hash=evidence_root([]),
            app_hash=APP_HASH,
            results_hash=EMPTY_ROOT,
            proposer=2,
        ),
        txs=txs,
    )


def _with(change: Callable[[ledger_pb2.Block], None]) -> Callable[[], ledger_pb2.Block]:
    def make() -> ledger_pb2.Block:
        block = _block()
        change(block)
        return block

    return make


FORGERIES: dict[str, tuple[Callable[[], ledger_pb2.Block], str]] = {
    "other chain": (_with(lambda b: setattr(b.header, "chain_id", "elsewhere")), "chain id 'elsewhere'"),
    "other height": (_with(lambda b: setattr(b.header, "height", HEIGHT + 1)), "header height 4"),
    "unknown proposer": (_with(lambda b: setattr(b.header, "proposer", 4)), "proposer 4 is not"),
    "transaction swapped": (_with(lambda b: b.txs.__setitem__(1, b"three")), "transactions do not match"),
    "evidence hash": (_with(lambda b: setattr(b.header, "evidence_hash", b"\x01" * 32)), "evidence does not"),
}


def _node_refusal(block: ledger_pb2.Block) -> str | None:
    try:
        check_block(
            CHAIN_ID,
            block,
            height=HEIGHT,
            prev_block_id=PARENT,
            prev_time_ms=50,
            app_hash=APP_HASH,
            results_hash=EMPTY_ROOT,
            validator_count=GENESIS.n,
        )
    except BlockInvalid as exc:
        return str(exc)
    return None


def test_an_honest_block_passes_both() -> None:
    assert _node_refusal(_block()) is None
    assert chain.header_problem(GENESIS, _block(), HEIGHT) is None


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_lying_header_is_refused_alike_by_node_and_verifier(forgery: str) -> None:
    make, why = FORGERIES[forgery]
    node_says = _node_refusal(make())
    assert node_says is not None and node_says.startswith(why)
    assert chain.header_problem(GENESIS, make(), HEIGHT) == node_says
