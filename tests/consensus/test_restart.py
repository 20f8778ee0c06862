"""Never double-sign, across restarts: scripted cases, then a property over random histories."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from node.consensus import (
    Broadcast,
    Commit,
    Consensus,
    Event,
    LastSigned,
    PersistSigned,
    Proposal,
    ProposalValue,
    Start,
    Step,
    Timeout,
    TimeoutKind,
    Vote,
    VoteType,
)
from tests.consensus.script import Harness, block_id, payload

A, B = block_id("A"), block_id("B")


def test_restart_after_prevote_sends_that_prevote_again_and_waits_in_step_prevote() -> None:
    """The prevote may have been persisted and never sent; it goes out again, nothing else."""
    harness = Harness(last_signed=LastSigned(1, 0, Step.PREVOTE, A))
    harness.run(
        """
start
  broadcast prevote h=1 r=0 A
proposal h=1 r=0 vr=-1 from=1 B
? state h=1 r=0 step=prevote
prevote h=1 r=0 from=1 B
prevote h=1 r=0 from=2 B
  timeout prevote h=1 r=0 100ms
"""
    )
    assert harness.core.refused_signatures == 0


def test_restart_after_precommit_keeps_the_lock() -> None:
    harness = Harness(last_signed=LastSigned(1, 0, Step.PRECOMMIT, A, 0, A))
    harness.run(
        """
start
  broadcast precommit h=1 r=0 A
? state h=1 r=0 step=precommit locked=0:A
timeout propose h=1 r=0
prevote h=1 r=1 from=2 nil
prevote h=1 r=1 from=3 nil
  timeout propose h=1 r=1 350ms
proposal h=1 r=1 vr=-1 from=2 B
  persist prevote h=1 r=1 nil lock=0:A
  broadcast prevote h=1 r=1 nil
  timeout prevote h=1 r=1 150ms
  persist precommit h=1 r=1 nil lock=0:A
  broadcast precommit h=1 r=1 nil
"""
    )


def test_restart_keeps_the_valid_value_and_its_proof_and_reproposes_them() -> None:
    """A locked proposer restarted without its polka could never unlock anyone (found by the soak).
    Restarted at the precommit step, it relays that polka at once: its prevotes of the round left
    with the crash, and a peer that missed one may wait for the polka for ever (a later soak)."""
    signer = Harness()
    proposal = signer.sign(Proposal(1, 0, -1, A, 1, b"", payload("A")), 1)
    proof = tuple(signer.sign(Vote(VoteType.PREVOTE, 1, 0, A, v, b""), v) for v in (0, 1, 2))
    assert isinstance(proposal, Proposal) and all(isinstance(v, Vote) for v in proof)
    record = LastSigned(1, 0, Step.PRECOMMIT, A, 0, A, 0, proposal, proof)  # type: ignore[arg-type]
    harness = Harness(last_signed=record)
    harness.run(
        """
start
  broadcast prevote h=1 r=0 A
  broadcast prevote h=1 r=0 from=1 A
  broadcast prevote h=1 r=0 from=2 A
  broadcast precommit h=1 r=0 A
? state h=1 r=0 step=precommit locked=0:A valid=0:A
prevote h=1 r=3 from=2 nil
prevote h=1 r=3 from=3 nil
  persist propose h=1 r=3 A lock=0:A valid=0:A proof=3
  broadcast proposal h=1 r=3 vr=0 A
  broadcast prevote h=1 r=0 from=1 A
  broadcast prevote h=1 r=0 from=2 A
  timeout propose h=1 r=3 450ms
  persist prevote h=1 r=3 A lock=0:A valid=0:A proof=3
  broadcast prevote h=1 r=3 A
  timeout prevote h=1 r=3 250ms
"""
    )


def test_restart_after_precommit_sends_the_rounds_own_prevote_again() -> None:
    """Issue 19 (soak seed 511719): the node prevoted nil, then precommitted nil, then crashed; its
    prevote had reached no other correct peer, and they wait for the round's 2f+1 prevotes. The
    record keeps that prevote, and the restart sends it again — the very bytes, no new signature —
    before the precommit."""
    harness = Harness()
    actions = [
        a for line in ("start", "timeout propose h=1 r=0") for a in harness.core.step(harness.parse(line))
    ]
    for sender in (1, 2):
        actions += harness.core.step(harness.parse(f"prevote h=1 r=0 from={sender} nil"))
    actions += harness.core.step(harness.parse("timeout prevote h=1 r=0"))
    sent = [a.message for a in actions if isinstance(a, Broadcast)]
    prevote, precommit = sent
    assert isinstance(prevote, Vote) and prevote.type == VoteType.PREVOTE
    assert isinstance(precommit, Vote) and precommit.type == VoteType.PRECOMMIT
    records = [a.record for a in actions if isinstance(a, PersistSigned)]
    assert records[-1].step == Step.PRECOMMIT and records[-1].round_prevote == prevote

    restarted = Harness(last_signed=records[-1])
    again = [a.message for a in restarted.core.step(Start()) if isinstance(a, Broadcast)]
    assert again == [prevote, precommit]
    assert restarted.core.refused_signatures == 0


def test_restart_in_a_later_round_sends_the_earlier_rounds_precommit_again() -> None:
    """Issue 19 (soak seed 1006969): the node precommitted nil in round 0, moved to round 1 and
    prevoted there, then crashed; its round-0 precommit had reached no correct peer, and they wait
    in round 0 for 2f+1 precommits. The record keeps that precommit across the round-1 prevote,
    and the restart sends it again — the very bytes — and holds it for stuck peers."""
    harness = Harness()
    lines = ("start", "timeout propose h=1 r=0")
    actions = [a for line in lines for a in harness.core.step(harness.parse(line))]
    for sender in (1, 2):
        actions += harness.core.step(harness.parse(f"prevote h=1 r=0 from={sender} nil"))
    actions += harness.core.step(harness.parse("timeout prevote h=1 r=0"))
    for sender in (1, 2):
        actions += harness.core.step(harness.parse(f"precommit h=1 r=0 from={sender} nil"))
    actions += harness.core.step(harness.parse("timeout precommit h=1 r=0"))
    actions += harness.core.step(harness.parse("timeout propose h=1 r=1"))
    sent = [a.message for a in actions if isinstance(a, Broadcast)]
    precommit = next(m for m in sent if isinstance(m, Vote) and m.type == VoteType.PRECOMMIT)
    records = [a.record for a in actions if isinstance(a, PersistSigned)]
    assert (records[-1].round, records[-1].step) == (1, Step.PREVOTE)
    assert records[-1].earlier_precommit == precommit

    restarted = Harness(last_signed=records[-1])
    again = [a.message for a in restarted.core.step(Start()) if isinstance(a, Broadcast)]
    assert again[0] == precommit
    assert [(m.type, m.round) for m in again[1:] if isinstance(m, Vote)] == [(VoteType.PREVOTE, 1)]
    assert precommit in restarted.core.held_votes()
    assert restarted.core.refused_signatures == 0


@pytest.mark.parametrize(
    ("kept", "field", "record", "resent"),
    [
        # a kept prevote not of the record's round: only the precommit goes
        (
            Vote(VoteType.PREVOTE, 1, 1, A, 0, b""),
            "round_prevote",
            (0, Step.PRECOMMIT),
            (VoteType.PRECOMMIT, 0),
        ),
        # a kept "earlier" precommit of the record's own round: only the prevote goes
        (
            Vote(VoteType.PRECOMMIT, 1, 2, None, 0, b""),
            "earlier_precommit",
            (2, Step.PREVOTE),
            (VoteType.PREVOTE, 2),
        ),
    ],
)
def test_restart_ignores_a_kept_vote_that_does_not_fit_the_record(
    kept: Vote, field: str, record: tuple[int, Step], resent: tuple[VoteType, int]
) -> None:
    """A damaged or foreign record: the restart sends only the record's own vote again, never a
    kept one that is not what this validator signed where the record says."""
    signed = Harness().sign(kept, 0)
    round_, step = record
    harness = Harness(last_signed=LastSigned(1, round_, step, A, **{field: signed}))
    sent = [a.message for a in harness.core.step(Start()) if isinstance(a, Broadcast)]
    assert [(m.type, m.round) for m in sent if isinstance(m, Vote)] == [resent]


def test_restart_as_proposer_refuses_a_different_block() -> None:
    harness = Harness(last_signed=LastSigned(1, 3, Step.PROPOSE, A))
    harness.run(
        """
start
  request h=1 r=3
  timeout propose h=1 r=3 450ms
value h=1 r=3 B
? state h=1 r=3 step=propose
"""
    )
    assert harness.core.refused_signatures == 1


# -- a property: random histories with restarts ----------------------------------------------------
# Heights and rounds are drawn relative to where the node is, so most events land where they act.

VALUES = [A, B, None]
SENDERS = [1, 2, 3]
NAMES = ["A", "B"]
HEIGHT_OFFSET = st.sampled_from([0, 0, 0, 1, -1])
ROUND_OFFSET = st.sampled_from([0, 0, 0, 1, 2, -1])
OPS = st.one_of(
    st.tuples(
        st.just("vote"),
        st.tuples(st.sampled_from([1, 2]), HEIGHT_OFFSET, ROUND_OFFSET, st.integers(1, 3), st.integers(0, 2)),
    ),
    st.tuples(
        st.just("quorum"), st.tuples(st.sampled_from([1, 2]), HEIGHT_OFFSET, ROUND_OFFSET, st.integers(0, 2))
    ),
    st.tuples(
        st.just("proposal"), st.tuples(HEIGHT_OFFSET, ROUND_OFFSET, st.integers(-1, 2), st.integers(0, 1))
    ),
    st.tuples(st.just("timeout"), st.tuples(st.integers(0, 2), HEIGHT_OFFSET, ROUND_OFFSET)),
    st.tuples(
        st.just("value"),
        st.tuples(
            st.integers(0, 1),
        ),
    ),
    st.tuples(st.just("restart"), st.just(())),
)


def _events(harness: Harness, op: str, args: tuple[int, ...]) -> list[Event]:
    core = harness.core
    if op == "quorum":  # the same vote from validators 1, 2 and 3: quorums form often enough
        kind, dh, dr, value = args
        return [_events(harness, "vote", (kind, dh, dr, sender, value))[0] for sender in SENDERS]
    if op == "vote":
        kind, dh, dr, sender, value = args
        height, round_ = max(1, core.height + dh), max(0, core.round + dr)
        return [harness.sign(Vote(VoteType(kind), height, round_, VALUES[value], sender, b""), sender)]
    if op == "proposal":
        dh, dr, valid_round, value = args
        height, round_ = max(1, core.height + dh), max(0, core.round + dr)
        proposer = (height + round_) % 4
        name = NAMES[value]
        message = Proposal(
            height, round_, min(valid_round, round_ - 1), block_id(name), proposer, b"", payload(name)
        )
        return [harness.sign(message, proposer)]
    if op == "timeout":
        kind, dh, dr = args
        return [Timeout(TimeoutKind(kind), max(1, core.height + dh), max(0, core.round + dr))]
    (value,) = args
    return [ProposalValue(core.height, core.round, block_id(NAMES[value]), payload(NAMES[value]))]


@settings(deadline=None, max_examples=400, derandomize=True)
@given(st.lists(OPS, min_size=20, max_size=80))
def test_never_signs_conflicting_messages_across_restarts(history: list[tuple[str, tuple[int, ...]]]) -> None:
    harness = Harness()
    core: Consensus = harness.core
    core.step(Start())
    persisted: LastSigned | None = None
    committed_height = 0
    signed: dict[tuple[int, int, str], bytes | None] = {}
    for op, args in history:
        if op == "restart":
            harness = Harness(height=committed_height + 1, last_signed=persisted)
            core = harness.core
            actions = core.step(Start())
        else:
            actions = [action for e in _events(harness, op, args) for action in core.step(e)]
        for action in actions:
            if isinstance(action, PersistSigned):
                persisted = action.record
            elif isinstance(action, Broadcast):
                message = action.message
                if isinstance(message, Vote) and message.validator != 0:
                    continue  # a relayed proof-of-lock vote, not ours
                assert persisted is not None, "persist before send"
                # A restart resends the round's prevote and the earlier round's precommit the
                # record keeps: the very messages signed before.
                resent = message in (persisted.round_prevote, persisted.earlier_precommit)
                assert resent or persisted.block_id == message.block_id, "persist before send"
                kind = message.type.name if isinstance(message, Vote) else "PROPOSAL"
                key = (message.height, message.round, kind)
                assert signed.setdefault(key, message.block_id) == message.block_id, f"double sign at {key}"
            elif isinstance(action, Commit):
                assert action.height == committed_height + 1
                committed_height = action.height
        assert core.height == committed_height + 1
    event("committed a height" if committed_height else "committed nothing")
    event("signed" if signed else "signed nothing")


def test_a_relayed_vote_of_its_own_key_keeps_it_from_signing_another_value_there() -> None:
    """The guard's gap at height 1 (issue 19): a validator that lost its record looks fresh and
    may be let sign in a round it signed before. Once a peer has relayed what its key signed
    there, the signature itself forbids another value: no double sign, whatever the record says."""
    harness = Harness()
    actions = [a for line in ("start",) for a in harness.core.step(harness.parse(line))]
    actions += harness.core.step(harness.parse("prevote h=1 r=0 from=0 A"))  # signed before the loss
    actions += harness.core.step(harness.parse("timeout propose h=1 r=0"))  # now it would prevote nil
    assert not [a for a in actions if isinstance(a, Broadcast | PersistSigned)]
    assert harness.core.refused_signatures == 1
