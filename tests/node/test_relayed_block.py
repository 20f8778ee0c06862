"""A block id is the hash of the header alone: a relayed copy of a proposal with the proposer's
header and other transactions names the same id. The node's BuiltBy (which the core uses to let a
proposal take its slot) must refuse it (issue 19, relay)."""

from __future__ import annotations

from node.proposer import built_by, parse_identified
from proto.votestore.v1 import ledger_pb2
from votestore.blocks import evidence_root, tx_root
from votestore.encoding import block_id, canonical

TXS = [b"ballot-1", b"ballot-2"]


def _block(txs: list[bytes]) -> ledger_pb2.Block:
    header = ledger_pb2.BlockHeader(
        chain_id="c", height=1, proposer=2, tx_root=tx_root(TXS), evidence_hash=evidence_root([])
    )
    return ledger_pb2.Block(header=header, txs=txs)


def test_the_genuine_block_is_identified() -> None:
    block = _block(TXS)
    assert built_by(block_id(block.header), canonical(block)) == 2


def test_the_proposers_header_over_other_transactions_is_not_the_block_it_names() -> None:
    genuine = _block(TXS)
    for txs in ([*TXS, b"junk"], TXS[:1], [b"junk", *TXS[1:]]):
        junk = _block(txs)
        assert block_id(junk.header) == block_id(genuine.header)  # the same id...
        assert parse_identified(block_id(junk.header), canonical(junk)) is None  # ...not its block
        assert built_by(block_id(junk.header), canonical(junk)) is None
