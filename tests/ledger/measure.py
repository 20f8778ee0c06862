"""Per-ballot costs of the election state machine, printed as figures (not a test).

Run: .venv/bin/python -m tests.ledger.measure [ballots]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from election.stateless import verify_tx_stateless
from tests.ledger.election_kit import Election
from tests.ledger.harness import CHAIN_ID
from votestore.encoding import tx_hash

DEFAULT_BALLOTS = 500


def _per_item_ms(count: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / count * 1e3


def main(ballots: int) -> None:
    election = Election.created(voters=2 * ballots).opened()
    txs: list[bytes] = []
    encrypt = _per_item_ms(
        2 * ballots,
        lambda: txs.extend(election.ballot(v, ((v % 4,), (v % 5, (v + 1) % 5))) for v in range(2 * ballots)),
    )
    first, second = txs[:ballots], txs[ballots:]
    params = election.chain.app.params_for(first[0])
    stateless = _per_item_ms(ballots, lambda: [verify_tx_stateless(CHAIN_ID, raw, params) for raw in first])
    inline = _per_item_ms(ballots, lambda: election.chain.block(first))
    verified = {tx_hash(raw) for raw in second}
    cached = _per_item_ms(ballots, lambda: election.chain.block(second, verified=verified))
    mempool = _per_item_ms(ballots, lambda: [election.chain.app.check_tx(raw) for raw in first])
    record = election.chain.state("e1")
    assert record.ballots == 2 * ballots
    print(f"ballots={ballots} tx_bytes={len(first[0])} (two contests, 9 choices)")
    print(f"encrypt_ballot+sign      {encrypt:7.3f} ms/ballot")
    print(f"verify_tx_stateless      {stateless:7.3f} ms/ballot")
    print(f"execute_block, inline    {inline:7.3f} ms/ballot")
    print(f"execute_block, verified  {cached:7.3f} ms/ballot")
    print(f"check_tx, already voted  {mempool:7.3f} ms/ballot")
    print(f"writes in a {ballots}-ballot block: {len(election.chain.outcomes[-1].writes)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_BALLOTS)
