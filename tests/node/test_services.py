"""The shell's services on a virtual clock, and the pending transactions' rule."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.clock import VirtualClock
from node.consensus import Event, ProposalValue
from node.intake import Arrival
from node.pending import PendingTxs
from node.proposer import Proposer
from node.repair import RESEND_MIN_INTERVAL_S, ResendLimit
from node.round_timers import RoundTimers
from node.shell import NodeShell
from node.signing_gate import SigningGate
from tests.ledger.election_kit import Election
from tests.node.shell_kit import intake_shell
from votestore.encoding import tx_hash

CHOICE = ((1,), (0, 4))
EMPTY_S = 1.0
BATCH_S = 0.05


def _proposer(
    tmp: Path, election: Election, clock: VirtualClock, fed: list[Event]
) -> tuple[Proposer, NodeShell]:
    shell = intake_shell(tmp, election.chain.app, None, clock=clock)
    proposer = Proposer(
        genesis=shell.genesis,
        index=0,
        store=shell.store,
        pending=shell.pending,
        ready=shell.ready_votes,
        evidence=shell.evidence.for_block,
        clock=clock,
        empty_block_interval_s=EMPTY_S,
        batch_wait_s=BATCH_S,
        block_max_txs=100,
        block_max_bytes=10**7,
        position=lambda: (1, 0),
        feed=fed.append,
    )
    return proposer, shell


def test_an_idle_proposer_proposes_an_empty_block_after_the_interval(tmp_path: Path) -> None:
    clock, fed = VirtualClock(), list[Event]()
    proposer, shell = _proposer(tmp_path, Election.created(voters=1).opened(), clock, fed)
    try:
        proposer.request(1, 0)
        clock.advance(EMPTY_S)
        assert fed == []  # then a batch wait, for a burst to gather
        clock.advance(BATCH_S)
        assert len(fed) == 1 and isinstance(fed[0], ProposalValue) and (fed[0].height, fed[0].round) == (1, 0)
        assert fed[0].payload  # an empty block still has a header
    finally:
        shell.store.close()


def test_a_transaction_arriving_wakes_a_waiting_proposer_at_once(tmp_path: Path) -> None:
    election = Election.created(voters=1).opened()
    clock, fed = VirtualClock(), list[Event]()
    proposer, shell = _proposer(tmp_path, election, clock, fed)
    try:
        proposer.request(1, 0)
        clock.advance(EMPTY_S / 10)
        ballot = election.ballot(0, CHOICE)
        outcomes = asyncio.run(shell.admission.submit_many([ballot]))
        assert [o.detail for o in outcomes] == ["pending"]  # type: ignore[union-attr]
        proposer.tx_arrived()  # as the shell's admission listener calls it
        clock.advance(BATCH_S)
        assert len(fed) == 1 and isinstance(fed[0], ProposalValue)
        assert ballot in fed[0].payload
        clock.advance(EMPTY_S)
        assert len(fed) == 1  # the empty-block timer was cancelled
    finally:
        shell.store.close()


def test_pending_caches_live_only_with_their_transaction() -> None:
    election = Election.created(voters=2).opened()
    raws = [election.ballot(v, CHOICE) for v in range(2)]
    first, second = (Arrival.of(tx_hash(raw), raw) for raw in raws)
    pending = PendingTxs(10, 10**7)
    pending.remember_verified(first.tx_hash)
    assert pending.add(first, b"points")
    with pytest.raises(AssertionError, match="only with a verified hash"):
        pending.add(second, b"points")  # points for a hash never verified
    pending.forget([second.tx_hash])
    with pytest.raises(AssertionError, match="outliving"):
        pending.keep_points(second.tx_hash, b"points")  # neither pending nor in the block
    pending.check()
    pending.keep_for_block(second)  # a decided block's transaction, checked now
    pending.remember_verified(second.tx_hash)
    pending.keep_points(second.tx_hash, b"points")
    pending.check()
    pending.applied([first.tx_hash, second.tx_hash])
    pending.check()
    assert not pending.tally_points and not pending.decoded and len(pending) == 0


def test_a_stuck_peer_is_answered_at_most_once_per_resend_interval() -> None:
    clock = VirtualClock()
    answered = []
    limit = ResendLimit()
    for at in (0.0, 0.1, RESEND_MIN_INTERVAL_S * 0.9, RESEND_MIN_INTERVAL_S, RESEND_MIN_INTERVAL_S * 1.5):
        clock.advance(at - clock.now())
        answered.append(limit.allow(1, clock.now()))
    assert answered == [True, False, False, True, False]
    assert limit.allow(2, clock.now())  # per peer


def test_the_shell_times_rounds_with_the_service_the_simulator_runs(tmp_path: Path) -> None:
    """One timeout service for node and simulator (tests/sim/test_shared_repair.py checks the
    simulator's side); the amnesia guard's decisions go through the shell's SigningGate."""
    shell = intake_shell(tmp_path, Election.created(voters=1).opened().chain.app, None, clock=VirtualClock())
    try:
        assert type(shell.timers) is RoundTimers
        assert type(shell.signing) is SigningGate
    finally:
        shell.store.close()
