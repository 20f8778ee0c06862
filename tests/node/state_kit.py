"""A store holding a real election (tests.ledger.election_kit: e1, six voters, three trustees,
opened, voters 0 and 1 cast), committed block by block with real certificates, and the keys of
its records, for the state-record checks' tests."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from election import state_keys
from election.app import ElectionApp
from election.policy import ChainPolicy
from node.ledger.state import journal_prefix, state_key
from node.ledger.store import Store
from tests.ledger.election_kit import ELECTION, Election, voter_key
from tests.ledger.harness import ADMIN, CHAIN_ID, T0_MS, code
from tests.node.store_kit import commit, genesis_for, open_store

GENESIS: Final = genesis_for(CHAIN_ID, [bytes(ADMIN.verify_key)], T0_MS)
CHOICE: Final = ((1,), (0, 4))
VOTERS: Final = 6
CAST: Final = (0, 1)


def build(path: Path, *, closed: bool = False) -> Election:
    """Write the election's chain into a new store at `path` (closed after the ballots if asked);
    the election's own in-memory chain holds the same blocks."""
    election = Election.created(voters=VOTERS).opened()
    ballots = [election.ballot(v, CHOICE) for v in CAST]
    assert [code(r) for r in election.chain.block(ballots)] == ["OK"] * len(CAST)
    if closed:
        assert election.chain.one(election.close()) == "OK"
    store = open_store(path, GENESIS)
    try:
        app = ElectionApp(ChainPolicy.from_genesis(GENESIS), store.app_reader())
        for ctx, txs in election.chain.blocks:
            commit(store, app, txs, ctx.time_ms)
        assert app.app_hash == election.chain.app.app_hash
    finally:
        store.close()
    return election


def open_built(path: Path) -> Store:
    return open_store(path, GENESIS)


def roll_key(voter: int) -> bytes:
    """The store key of voter's roll entry (the district, as its position in the turnout list)."""
    return state_key(state_keys.roll_entry(ELECTION, voter_key(voter)))


def election_key() -> bytes:
    return state_key(state_keys.election(ELECTION))


def written_at(path: Path, key: bytes) -> int:
    """The height the state record at store key `key` names."""
    import plyvel

    db = plyvel.DB(str(path))
    try:
        raw = db.get(key)
    finally:
        db.close()
    assert raw is not None, key
    return int.from_bytes(raw[:8], "big")


def journal_key(height: int, store_key: bytes) -> bytes:
    return journal_prefix(height) + store_key[len(b"a/") :]
