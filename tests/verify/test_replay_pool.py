"""The verifier's worker pool checks the proofs of ballots cast after their election opened in the
same pass — not only of elections opened before it."""

from __future__ import annotations

from tests.verify import kit
from tools.verify.replay import Replayer


def test_pool_verifies_ballots_of_an_election_opened_in_the_same_pass() -> None:
    election = kit.Election.opened()
    ballots = [election.ballot(v, kit.SELECTIONS[v]) for v in range(4)]
    assert kit.ok(election.chain.block(ballots))
    replayer = Replayer(kit.GENESIS, workers=2)
    try:
        replayed = list(replayer.replay(election.chain.blocks))
    finally:
        replayer.close()
    assert [r.app_hash for r in replayed] == [b.block.header.app_hash for b in election.chain.blocks[1:]] + [
        election.chain.app.app_hash
    ]
    assert replayed[-1].pool_verified == len(ballots)
