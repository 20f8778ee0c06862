"""Invariant 8: block execution never raises on anything a Byzantine proposer can put in a block.

A proposer chooses the bytes of every transaction and their order; the state they meet is whatever
the chain's earlier blocks made. So blocks of random bytes, of valid transactions with bytes
flipped, cut or spliced (not re-signed), of mutated transactions re-signed by their rightful
signer, and of valid transactions in nonsensical orders are executed against states in every phase:
`execute_block` must return one result per transaction with a real code, and a refused transaction
must leave no trace but the block's bookkeeping.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hypothesis import event, given, settings
from hypothesis import strategies as st

from election import state_keys
from election.kv import MemoryKV
from election.policy import BlockContext
from proto.votestore.v1 import election_pb2
from tests.ledger.election_kit import ELECTION, Election, credential
from tests.ledger.harness import CHAIN_ID, Chain, attester, code
from tests.ledger.test_fuzz import Phase, _leaves, _mutate, corpus
from votestore import txbuild
from votestore.crypto import group
from votestore.encoding import canonical

MAX_BLOCK_TXS = 6
ROGUE_SECRET = 0x5EC2E7


def _execute(phase: Phase, txs: list[bytes]) -> list[election_pb2.TxResult]:
    """Execute one block on a fresh copy of the phase's state, as every validator would."""
    chain = Chain(kv=MemoryKV(phase.snapshot), time_ms=phase.time_ms)
    outcome = chain.app.execute_block(BlockContext(chain.app.height + 1, phase.time_ms + 1000), txs)
    assert len(outcome.results) == len(txs)
    assert all(r.code != election_pb2.RESULT_CODE_UNSPECIFIED for r in outcome.results)
    for raw in txs:
        assert chain.app.check_tx(raw).code != election_pb2.RESULT_CODE_UNSPECIFIED
    for result in outcome.results:
        event(code(result))
    return list(outcome.results)


def _phases() -> st.SearchStrategy[Phase]:
    return st.sampled_from(corpus().phases)


def _valid_tx() -> st.SearchStrategy[bytes]:
    return st.sampled_from([raw for raw, _ in corpus().txs])


@st.composite
def _byte_mutated(draw: st.DrawFn) -> bytes:
    """A valid transaction's bytes with one edit: flip, cut, insert or splice with another's."""
    raw = bytearray(draw(_valid_tx()))
    at = draw(st.integers(0, len(raw) - 1))
    match draw(st.sampled_from(["flip", "cut", "insert", "splice"])):
        case "flip":
            raw[at] ^= 1 << draw(st.integers(0, 7))
        case "cut":
            del raw[at : at + draw(st.integers(1, 64))]
        case "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=16))
        case _:
            other = draw(_valid_tx())
            raw = raw[:at] + bytearray(other[draw(st.integers(0, len(other) - 1)) :])
    return bytes(raw)


@st.composite
def _resigned(draw: st.DrawFn) -> bytes:
    """A valid transaction with fields mutated through its descriptor, re-signed by its signer."""
    raw, key = draw(st.sampled_from(corpus().txs))
    tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body)
    data = draw(st.data())
    for _ in range(draw(st.integers(1, 3))):
        leaves = _leaves(tx)
        message, field = leaves[draw(st.integers(0, len(leaves) - 1))]
        _mutate(data, message, field)
    return txbuild.signed(CHAIN_ID, key, tx)


ANY_TX = st.one_of(st.binary(max_size=300), _byte_mutated(), _resigned(), _valid_tx())


@settings(deadline=None, max_examples=400)
@given(phase=_phases(), txs=st.lists(ANY_TX, min_size=1, max_size=MAX_BLOCK_TXS))
def test_any_block_executes_to_results(phase: Phase, txs: list[bytes]) -> None:
    _execute(phase, txs)


@settings(deadline=None, max_examples=200)
@given(phase=_phases(), tx=ANY_TX)
def test_a_refused_transaction_leaves_no_trace(phase: Phase, tx: bytes) -> None:
    chain = Chain(kv=MemoryKV(phase.snapshot), time_ms=phase.time_ms)
    (result,) = chain.block([tx])
    if result.code != election_pb2.OK:
        changed = {k for k, v in chain.kv.snapshot().items() if phase.snapshot.get(k) != v}
        assert all(k.startswith(b"m/") for k in changed), (code(result), changed)


@dataclass(frozen=True)
class Nonsense:
    """Key generation with trustees 1 and 2 dealt, and transactions that are each valid in form but
    together make no sense: trustee 3's rogue deals (constant term g^x - (A10 + A20), or the
    inverse of A10 + A20: an identity election key), an early open, a ballot made under a key that
    is not the election's, a close."""

    start: Phase
    txs: tuple[bytes, ...]


@functools.cache
def nonsense() -> Nonsense:
    election = Election.created(voters=3)
    election.chain.block([election.deal(1), election.deal(2)])
    start = Phase("dealt 1 and 2", election.chain.kv.snapshot(), election.chain.time_ms)
    deals = [election.chain.app.deal(ELECTION, d) for d in (1, 2)]
    honest = group.add(*(d.commitments[0] for d in deals if d is not None))

    def rogue(constant: bytes) -> bytes:
        tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(election.deal(3)).body)
        tx.dkg_deal.commitments[0] = constant
        return txbuild.signed(CHAIN_ID, election.trustees[2].key, tx)

    stranger_key = group.base_mult(ROGUE_SECRET)
    ballot = txbuild.ballot(
        CHAIN_ID, ELECTION, election.definition, stranger_key, credential(0), [[0], []], attester(ELECTION)
    )
    txs = (
        rogue(group.sub(group.IDENTITY, honest)),
        rogue(group.sub(stranger_key, honest)),
        election.deal(3),
        election.open(),
        ballot,
        election.close(),
    )
    return Nonsense(start, txs)


@settings(deadline=None, max_examples=300)
@given(
    blocks=st.lists(
        st.tuples(st.integers(1, 30_000), st.lists(st.integers(0, 5), min_size=1, max_size=4)),
        min_size=1,
        max_size=4,
    )
)
def test_nonsensical_sequences_execute_to_results(blocks: list[tuple[int, list[int]]]) -> None:
    """Several blocks, block time advancing by 1..30 s (past the complaint window or not)."""
    story = nonsense()
    chain = Chain(kv=MemoryKV(story.start.snapshot), time_ms=story.start.time_ms)
    for step_ms, picks in blocks:
        txs = [story.txs[i] for i in picks]
        results = chain.block(txs, chain.time_ms + step_ms)
        assert len(results) == len(txs)
        assert all(r.code != election_pb2.RESULT_CODE_UNSPECIFIED for r in results)
    record = chain.state(ELECTION)
    assert record.election_key != group.IDENTITY


def test_a_ballot_against_an_identity_key_left_by_a_byzantine_history_is_malformed() -> None:
    """Defence in depth: even if the state held an identity election key (the old code recorded
    one), a ballot is refused MALFORMED instead of raising DecodeError in every validator."""
    election = Election.created(voters=2).opened()
    ballot = election.ballot(0, [[0], []])
    record = election.chain.state(ELECTION)
    record.election_key = group.IDENTITY
    election.chain.kv.apply({state_keys.election(ELECTION): canonical(record)})
    chain = Chain(kv=MemoryKV(election.chain.kv.snapshot()), time_ms=election.chain.time_ms)
    (result,) = chain.block([ballot])
    assert code(result) == "MALFORMED" and "identity" in result.detail
