"""The application interface: app hash chain, commit protocol, restart, check_tx purity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election import state_keys
from election.app import ElectionApp
from election.app_hash import encode_writes, genesis_app_hash, next_app_hash
from election.kv import MemoryKV
from election.policy import BlockContext
from tests.ledger.harness import (
    AUTHORITY,
    CHAIN_ID,
    POLICY,
    T0_MS,
    Chain,
    code,
    create,
    definition,
    seeded_key,
)
from votestore import txbuild


def voter(n: int) -> bytes:
    return bytes(seeded_key(f"voter{n}").verify_key)


def test_genesis_app_hash_depends_on_chain_id() -> None:
    app = ElectionApp(POLICY, MemoryKV())
    assert app.height == 0
    assert app.app_hash == genesis_app_hash(CHAIN_ID)
    assert genesis_app_hash("a") != genesis_app_hash("b")


def test_app_hash_chains_over_block_writes() -> None:
    chain = Chain()
    genesis = chain.app.app_hash
    chain.block([create(definition())])
    chain.block([])
    first, second = chain.outcomes
    hashed = {k: v for k, v in first.writes.items() if not k.startswith(state_keys.META_PREFIX)}
    assert first.app_hash == next_app_hash(genesis, hashed)
    assert second.app_hash == next_app_hash(first.app_hash, {})
    assert second.app_hash != first.app_hash
    assert chain.kv.get(state_keys.META_APP_HASH) == second.app_hash


def test_write_encoding_is_unambiguous() -> None:
    assert encode_writes({b"ab": b"c"}) != encode_writes({b"a": b"bc"})
    assert encode_writes({b"a": None}) != encode_writes({b"a": b""})
    assert encode_writes({b"b": b"1", b"a": b"2"}) == encode_writes({b"a": b"2", b"b": b"1"})


def test_execute_block_changes_nothing_until_commit() -> None:
    kv = MemoryKV()
    app = ElectionApp(POLICY, kv)
    outcome = app.execute_block(BlockContext(1, T0_MS), [create(definition())])
    assert len(kv) == 0
    assert app.height == 0
    assert app.list_elections() == []
    with pytest.raises(AssertionError, match="writes not applied"):
        app.commit(outcome)
    kv.apply(outcome.writes)
    app.commit(outcome)
    assert (app.height, app.time_ms, app.app_hash) == (1, T0_MS, outcome.app_hash)
    assert app.list_elections() == ["e1"]


def test_block_time_and_height_must_advance() -> None:
    chain = Chain()
    chain.block([])
    with pytest.raises(AssertionError):
        chain.app.execute_block(BlockContext(3, chain.time_ms + 1), [])
    with pytest.raises(AssertionError):
        chain.app.execute_block(BlockContext(2, chain.time_ms), [])


def test_check_tx_writes_nothing_and_sees_committed_state_only() -> None:
    chain = Chain()
    tx = create(definition())
    assert code(chain.app.check_tx(tx)) == "OK"
    assert code(chain.app.check_tx(tx)) == "OK"  # a mempool check is not an execution
    assert len(chain.kv) == 0
    chain.block([tx])
    assert code(chain.app.check_tx(tx)) == "DUPLICATE"


def test_restart_resumes_from_stored_state() -> None:
    chain = Chain()
    chain.block([create(definition())])
    chain.block([txbuild.roll_append(CHAIN_ID, AUTHORITY, "e1", 0, [(voter(1), "north")])])
    restarted = ElectionApp(POLICY, MemoryKV(chain.kv.snapshot()))
    assert (restarted.height, restarted.time_ms, restarted.app_hash) == (
        chain.app.height,
        chain.app.time_ms,
        chain.app.app_hash,
    )
    assert restarted.election_state("e1") == chain.app.election_state("e1")


def test_queries_on_unknown_election() -> None:
    app = ElectionApp(POLICY, MemoryKV())
    assert app.election_state("nope") is None
    assert not app.in_roll("nope", voter(1))
    assert not app.has_voted("nope", voter(1))
    assert app.params_for(b"\xff") is None


ROLL_TX = st.builds(
    lambda batch, voters, group: txbuild.roll_append(
        CHAIN_ID, AUTHORITY, "e1", batch, [(voter(v), group) for v in voters]
    ),
    st.integers(0, 4),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.sampled_from(["north", "south", "east"]),
)


@settings(deadline=None, max_examples=25)
@given(blocks=st.lists(st.lists(ROLL_TX, max_size=4), max_size=5))
def test_replicas_agree_and_roll_accounting_holds(blocks: list[list[bytes]]) -> None:
    """Two replicas fed the same blocks hold the same state and hashes; the roll adds up."""
    replicas = [Chain(), Chain()]
    for replica in replicas:
        replica.block([create(definition())])
        for txs in blocks:
            replica.block(txs)
    first, second = replicas
    assert first.kv.snapshot() == second.kv.snapshot()
    assert [o.app_hash for o in first.outcomes] == [o.app_hash for o in second.outcomes]
    record = first.state("e1")
    assert record.roll_size == sum(t.roll_size for t in record.turnout)
    in_roll = sum(first.app.in_roll("e1", voter(v)) for v in range(31))
    assert in_roll == record.roll_size
    accepted = sum(r.code == 1 for o in first.outcomes[1:] for r in o.results)
    assert record.roll_batches == accepted
