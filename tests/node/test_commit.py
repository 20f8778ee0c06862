"""The shell's commit path: a decided block's transactions are hashed once for its checks, its
execution and the store; its results and app hash are those of the plain state machine; and the
block is checked against the tip unless `shell.validity` passed those very bytes on that tip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.admission import SubmitOutcome
from node.shell import NodeShell
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import Election
from tests.ledger.harness import code
from tests.node.commit_kit import decided, next_block, stored_shell
from votestore.blocks import BlockInvalid
from votestore.encoding import block_id, canonical, tx_hash

CHOICE = ((1,), (0, 4))
VOTERS = 6


@pytest.fixture
def election() -> Election:
    return Election.created(voters=VOTERS).opened()


def _submitted(shell: NodeShell, txs: list[bytes]) -> None:
    outcomes = asyncio.run(shell.admission.submit_many(txs))
    assert all(isinstance(o, SubmitOutcome) and o.detail == "pending" for o in outcomes), outcomes


def test_a_decided_block_applies_as_the_state_machine_does(election: Election, tmp_path: Path) -> None:
    shell = stored_shell(tmp_path, election.chain, None)
    try:
        ballots = [election.ballot(v, CHOICE) for v in range(VOTERS)]
        again = election.ballot(0, ((2,), ()))  # voter 0's second ballot: refused in the block
        _submitted(shell, [*ballots, again])
        txs = shell.pending.reap(100, 10**9)
        assert txs == [*ballots, again]
        block = next_block(shell, txs)
        builders = frozenset({block.header.proposer})
        assert shell.validity(block.header.height, builders, block_id(block.header), canonical(block))
        asyncio.run(shell.committer.commit(decided(block)))

        expected = election.chain.block(txs, block.header.time_ms)  # decodes, hashes, verifies itself
        assert [code(r) for r in expected] == ["OK"] * VOTERS + ["ALREADY_VOTED"]
        assert shell.store.results(block.header.height) == expected
        assert shell.app.app_hash == election.chain.app.app_hash
        assert len(shell.pending) == 0
        shell.pending.check()
        assert not shell.pending.decoded  # kept for the block, dropped with the mempool entries
        location = shell.store.locate(tx_hash(again))
        assert location is not None and (location.height, location.index) == (block.header.height, VOTERS)
    finally:
        shell.store.close()


def test_a_decided_block_is_checked_unless_valid_passed_those_bytes(
    election: Election, tmp_path: Path
) -> None:
    shell = stored_shell(tmp_path, election.chain, None)
    try:
        good = next_block(shell, [election.ballot(1, CHOICE)])
        bad = next_block(shell, [election.ballot(2, CHOICE)])
        bad.header.tx_root = good.header.tx_root  # does not match its transactions
        height = good.header.height
        builders = frozenset({good.header.proposer})
        assert not shell.validity(height, builders, block_id(bad.header), canonical(bad))
        assert shell.validity(height, builders, block_id(good.header), canonical(good))
        with pytest.raises(BlockInvalid, match="Merkle root"):
            asyncio.run(shell.committer.commit(decided(bad)))
        assert shell.store.height == height - 1
        asyncio.run(shell.committer.commit(decided(good)))
        assert [r.code for r in shell.store.results(height)] == [election_pb2.OK]
    finally:
        shell.store.close()
