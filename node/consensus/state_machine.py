"""Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus" (arXiv:1807.04938).

One `Consensus` per validator. `step(event)` checks and records the event, then fires the `upon`
rules until none applies, and returns the actions for the shell. The rules are methods named after
the paper's line numbers; `_p` suffixes are dropped (`round` is `round_p`).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Final

from node.consensus import leader
from node.consensus.actions import (
    Action,
    Broadcast,
    Commit,
    PersistSigned,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
)
from node.consensus.config import TimeoutConfig, ValidatorSet
from node.consensus.events import (
    Applied,
    Decided,
    Event,
    ProposalValue,
    SignWithheld,
    Start,
    Timeout,
    TimeoutKind,
)
from node.consensus.messages import Certificate, LastSigned, Proposal, Step, Vote, VoteType
from node.consensus.next_height import MESSAGE_OVERHEAD_BYTES, NextHeightBuffer, Outcome
from node.consensus.signing import (
    BLOCK_ID_BYTES,
    MAX_HEIGHT,
    MAX_ROUND,
    Signer,
    Verifier,
    proposal_signing_bytes,
    signing_bytes,
    verify_certificate,
    vote_signing_bytes,
)
from node.consensus.votes import MAX_VOTES_PER_VALIDATOR, HeightMessages

# Messages from rounds further ahead than this are dropped: each round costs memory, and a
# Byzantine validator could otherwise invent rounds without end. Correct validators only advance a
# round with a quorum behind them, so honest traffic stays well inside this window.
MAX_ROUNDS_AHEAD: Final = 64
# Messages for height + 1 wait until this node decides the current height, in a buffer per
# sender bounded in messages and in bytes (next_height.py), so one validator's flood cannot evict
# another's messages nor hold more than one full block's worth of memory. A correct sender has a
# proposal, a prevote and a precommit per round there, and seldom more than a round or two ahead.
NEXT_HEIGHT_MESSAGES_PER_SENDER: Final = 64
DEFAULT_MAX_PAYLOAD_BYTES: Final = 16 * 1024 * 1024
"""A proposal's payload bound when the shell names none (the node passes 2 × block_max_bytes)."""
# Each firing changes (height, round, step) or a once-per-round flag, so a step reaches a fixpoint
# in a few dozen firings; reaching this bound means a rule fires without changing state — a bug.
MAX_RULE_FIRINGS_PER_STEP: Final = 10_000

Validity = Callable[[int, frozenset[int], bytes, bytes], bool]
"""The paper's valid(v), given (height, builders, block_id, payload); pure, and must check that
the payload is the block that block_id names, built by one of `builders` (the block names its
builder; the leader rule reads it, see `BuiltBy`). A fresh proposal's block must be built by the
round's proposer; a re-proposed one (validRound ≥ 0) by the proposer of a round up to validRound."""

ReadyIn = Callable[[bytes, bytes], frozenset[tuple[int, int]]]
"""(block_id, payload) of a decided block -> (validator, height of the vote) for each readiness
vote it carries (the leader rule's `Turn.ready`; valid(v) checked the votes, and a certified block
was so checked by a correct validator)."""


def no_readiness(block_id: bytes, payload: bytes) -> frozenset[tuple[int, int]]:
    """ReadyIn for values that carry no readiness votes."""
    return frozenset()


BuiltBy = Callable[[bytes, bytes], int | None]
"""(block_id, payload) -> the validator that built the block (the index its header names) if the
payload is the block block_id names, else None. A catch-up block (`Decided`) is checked with this
alone (its certificate covers the id, not the bytes beside it), and every decided block's builder
goes into the leader rule's history: it is part of the block, so every node records the same one,
whatever round each saw it decided in."""


class DropReason(StrEnum):
    """Why an incoming message or event was dropped; the node exports these as a metric label."""

    MALFORMED = "malformed"
    NOT_VALIDATOR = "not_validator"
    BAD_SIGNATURE = "bad_signature"
    OLD_HEIGHT = "old_height"
    FUTURE_HEIGHT = "future_height"
    ROUND_TOO_FAR = "round_too_far"
    WRONG_PROPOSER = "wrong_proposer"
    DUPLICATE = "duplicate"
    VOTE_FLOOD = "vote_flood"
    PROPOSAL_FLOOD = "proposal_flood"
    BUFFER_FULL = "buffer_full"  # the sender's next-height buffer is full (messages or bytes)
    BUFFER_EVICTED = "buffer_evicted"  # given up from a next-height buffer for a lower round
    OVERSIZE = "oversize"  # a proposal's payload over the bound, refused before anything else
    STALE_VALUE = "stale_value"
    BAD_CERTIFICATE = "bad_certificate"
    BAD_PAYLOAD = "bad_payload"
    NOT_STARTED = "not_started"


class Consensus:
    """The Tendermint state machine of one validator: pure, deterministic, single-threaded.

    After a `Commit` action the core has already moved to height + 1 and started round 0 there.
    Built with `last_signed` from the shell's store, it restores that round and lock when the
    heights match, and never signs anything that conflicts with it.
    """

    # Per-height state, reset by `_reset_height`.
    _round: int
    _step: Step
    _locked_value: bytes | None
    _locked_round: int
    _valid_value: Proposal | None
    _valid_round: int
    _messages: HeightMessages
    _awaiting_value: bool
    _fired_line34: set[int]
    _fired_line36: set[int]
    _fired_line47: set[int]
    _validity: dict[tuple[int, int, bytes], bool]
    _evidenced: set[tuple[int, VoteType, int]]

    def __init__(
        self,
        *,
        chain_id: str,
        validators: ValidatorSet,
        index: int,
        signer: Signer,
        verifier: Verifier,
        valid: Validity,
        built_by: BuiltBy,
        timeouts: TimeoutConfig,
        height: int = 1,
        last_signed: LastSigned | None = None,
        recent: Sequence[leader.Turn] = (),
        ready_in: ReadyIn = no_readiness,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        if index not in validators:
            raise ValueError(f"validator index {index} is outside the set of {validators.size}")
        if not 1 <= height <= MAX_HEIGHT:
            raise ValueError(f"height must be 1..{MAX_HEIGHT}, got {height}")
        self._chain_id = chain_id
        self._validators = validators
        self._index = index
        self._signer = signer
        self._verifier = verifier
        self._valid = valid
        self._built_by = built_by
        self._ready_in = ready_in
        self._timeouts = timeouts
        # Turns of the committed blocks just below `_height`, oldest first (leader.py).
        self._recent: deque[leader.Turn] = deque(recent, maxlen=leader.window(validators))
        assert all(t.builder in validators for t in self._recent)
        self._present: frozenset[int] = frozenset()
        self._ranked: tuple[int, ...] = ()
        self._last_signed = last_signed
        self._started = False
        self._dropped: Counter[DropReason] = Counter()
        self._refused_signatures = 0
        self._sign_from = 1
        self._withheld: list[tuple[VoteType, bytes | None]] = []
        """Votes of the current round cast while `_sign_from` forbade signing (SignWithheld)."""
        self._withheld_proposal: tuple[bytes, bytes, int] | None = None
        """(block_id, payload, valid_round) this node proposed in silence in the current round."""
        self._max_payload_bytes = max_payload_bytes
        self._next_height = self._new_next_height()
        self._deferred: list[Proposal | Vote] = []
        self._height = height
        self._reset_height()
        if last_signed is not None and last_signed.height == height:
            self._round = last_signed.round
            self._locked_round = last_signed.locked_round
            self._locked_value = last_signed.locked_block_id
            self._restore_valid(last_signed)

    # -- readable state (the node exports these as metrics) ------------------------------------

    @property
    def height(self) -> int:
        return self._height

    @property
    def round(self) -> int:
        return self._round

    @property
    def current_step(self) -> Step:
        return self._step

    @property
    def locked_round(self) -> int:
        return self._locked_round

    @property
    def locked_value(self) -> bytes | None:
        return self._locked_value

    @property
    def valid_round(self) -> int:
        return self._valid_round

    @property
    def valid_value(self) -> bytes | None:
        return None if self._valid_value is None else self._valid_value.block_id

    @property
    def last_signed(self) -> LastSigned | None:
        return self._last_signed

    def held_votes(self) -> list[Vote]:
        """Every vote of the current height this node counted (signatures checked): what it may
        relay to a stuck peer (`node.repair.resend`)."""
        return self._messages.votes()

    def proposer(self, round_: int) -> int:
        """proposer(h, round) at the current height, by the leader rule (leader.py)."""
        return self._ranked[round_ % self._validators.size]

    @property
    def skipped(self) -> frozenset[int]:
        """Validators the leader rule skips at the current height."""
        return frozenset(self._ranked) - self._present

    @property
    def recent(self) -> tuple[leader.Turn, ...]:
        return tuple(self._recent)

    @property
    def dropped(self) -> Mapping[str, int]:
        return {str(reason): n for reason, n in self._dropped.items()}

    def sign_from(self, height: int) -> None:
        """Sign nothing below `height` (MAX_HEIGHT + 1: nothing at all): the shell's amnesia guard
        (node/amnesia.py) holds a validator without a last-signed record to following only."""
        self._sign_from = height

    @property
    def refused_signatures(self) -> int:
        """Signatures withheld because they would conflict with the persisted last-signed record."""
        return self._refused_signatures

    # -- the one entry point -------------------------------------------------------------------

    def step(self, event: Event) -> list[Action]:
        out: list[Action] = []
        if self._started and self._deferred:
            self._replay_deferred(out)
        if isinstance(event, Start):
            if not self._started:
                self._started = True
                self._begin(out)
        elif not self._started:
            self._drop(DropReason.NOT_STARTED)
        elif isinstance(event, Applied):
            pass  # its work, replaying what waited for the commit, is done above
        elif isinstance(event, Proposal | Vote):
            self._receive(event, out)
        elif isinstance(event, Timeout):
            self._on_timeout(event, out)
        elif isinstance(event, ProposalValue):
            self._on_proposal_value(event, out)
        elif isinstance(event, SignWithheld):
            self._sign_withheld(out)
        else:
            assert isinstance(event, Decided)
            self._on_decided(event, out)
        if self._started:
            self._fire_rules(out)
        self._check_invariants()
        return out

    # -- per-height state ----------------------------------------------------------------------

    def _new_next_height(self) -> NextHeightBuffer:
        return NextHeightBuffer(
            messages=NEXT_HEIGHT_MESSAGES_PER_SENDER,
            max_bytes=self._max_payload_bytes + NEXT_HEIGHT_MESSAGES_PER_SENDER * MESSAGE_OVERHEAD_BYTES,
            max_rounds=MAX_ROUNDS_AHEAD + 1,
        )

    def _reset_height(self) -> None:
        self._round = 0
        self._step = Step.PROPOSE
        self._locked_value = None
        self._locked_round = -1
        self._valid_value = None
        self._valid_round = -1
        self._messages = HeightMessages()
        self._awaiting_value = False
        self._fired_line34 = set()
        self._fired_line36 = set()
        self._fired_line47 = set()
        self._validity = {}
        self._withheld = []
        self._withheld_proposal = None
        self._evidenced = set()
        self._present = leader.active(self._validators, self._height, self._recent)
        self._ranked = leader.ranked(self._validators, self._height, self._present)

    def _check_invariants(self) -> None:
        assert self._locked_round <= self._round
        assert self._valid_round <= self._round
        assert (self._locked_round == -1) == (self._locked_value is None)
        assert (self._valid_round == -1) == (self._valid_value is None)
        assert not self._awaiting_value or self._step == Step.PROPOSE
        self._next_height.check()
        assert len(self._deferred) <= NEXT_HEIGHT_MESSAGES_PER_SENDER * self._validators.size

    # -- checking what arrives -----------------------------------------------------------------

    def _drop(self, reason: DropReason) -> None:
        self._dropped[reason] += 1

    def _well_formed(self, message: Proposal | Vote) -> bool:
        if not 1 <= message.height <= MAX_HEIGHT or not 0 <= message.round <= MAX_ROUND:
            return False
        if isinstance(message, Vote):
            return message.type in (VoteType.PREVOTE, VoteType.PRECOMMIT) and (
                message.block_id is None or len(message.block_id) == BLOCK_ID_BYTES
            )
        return len(message.block_id) == BLOCK_ID_BYTES and -1 <= message.valid_round < message.round

    def _sender(self, message: Proposal | Vote) -> int:
        return message.validator if isinstance(message, Vote) else message.proposer

    def _receive(self, message: Proposal | Vote, out: list[Action]) -> None:
        """Every check before a message may count; a failing one drops it and counts the reason."""
        if isinstance(message, Proposal) and len(message.payload) > self._max_payload_bytes:
            return self._drop(DropReason.OVERSIZE)
        if not self._well_formed(message):
            return self._drop(DropReason.MALFORMED)
        if self._sender(message) not in self._validators:
            return self._drop(DropReason.NOT_VALIDATOR)
        if message.height < self._height:
            return self._drop(DropReason.OLD_HEIGHT)
        if message.height > self._height + 1:
            return self._drop(DropReason.FUTURE_HEIGHT)
        base_round = self._round if message.height == self._height else 0
        if message.round > base_round + MAX_ROUNDS_AHEAD:
            return self._drop(DropReason.ROUND_TOO_FAR)
        # Who proposes at height + 1 depends on who proposed the block not yet decided here:
        # such proposals are checked when replayed (`_replay_deferred`).
        if (
            isinstance(message, Proposal)
            and message.height == self._height
            and message.proposer != self.proposer(message.round)
        ):
            return self._drop(DropReason.WRONG_PROPOSER)
        if message in self._next_height or self._already_counted(message):
            return self._drop(DropReason.DUPLICATE)
        signed = signing_bytes(self._chain_id, message)
        if not self._verifier.verify(self._sender(message), signed, message.signature):
            return self._drop(DropReason.BAD_SIGNATURE)
        # The signature covers the block id, not the payload: a relayed copy with another payload
        # must not take the (round, block id) slot before the genuine one (issue 19, relay).
        if isinstance(message, Proposal) and self._built_by(message.block_id, message.payload) is None:
            return self._drop(DropReason.BAD_PAYLOAD)
        if message.height == self._height + 1:
            return self._buffer_next_height(message, out)
        if isinstance(message, Vote):
            return self._record_vote(message, out)
        return self._record_proposal(message)

    def _buffer_next_height(self, message: Proposal | Vote, out: list[Action]) -> None:
        """Keep a message for height + 1 in its sender's slot for it (next_height.py); a second
        vote for a taken slot is evidence, as at the current height."""
        added = self._next_height.add(message)
        for _ in range(added.evicted):
            self._drop(DropReason.BUFFER_EVICTED)
        if added.outcome == Outcome.FULL:
            return self._drop(DropReason.BUFFER_FULL)
        if added.outcome == Outcome.DUPLICATE:
            return self._drop(DropReason.DUPLICATE)
        if added.outcome == Outcome.CONFLICT:
            if added.evidence is not None:
                assert isinstance(message, Vote)
                out.append(RecordEvidence(added.evidence, message))
            return self._drop(
                DropReason.VOTE_FLOOD if isinstance(message, Vote) else DropReason.PROPOSAL_FLOOD
            )
        assert added.outcome == Outcome.KEPT
        return None

    def _already_counted(self, message: Proposal | Vote) -> bool:
        if message.height != self._height:
            return False
        if isinstance(message, Vote):
            votes = self._messages.votes_of(message.round, message.type, message.validator)
            return message.block_id in votes
        return self._messages.proposal(message.round, message.block_id) == message

    def _record_vote(self, vote: Vote, out: list[Action]) -> None:
        """Count the vote; a second value from one validator is also evidence (once per round/type)."""
        earlier = self._messages.votes_of(vote.round, vote.type, vote.validator)
        if vote.block_id in earlier:
            return self._drop(DropReason.DUPLICATE)
        if len(earlier) >= MAX_VOTES_PER_VALIDATOR:
            unsupported = self._messages.unsupported_vote(vote.round, vote.type, vote.validator)
            if unsupported is None or not self._messages.supported(vote.round, vote.type, vote.block_id):
                return self._drop(DropReason.VOTE_FLOOD)
            self._messages.remove_vote(unsupported)
            self._drop(DropReason.VOTE_FLOOD)
        key = (vote.round, vote.type, vote.validator)
        if earlier and key not in self._evidenced:
            self._evidenced.add(key)
            out.append(RecordEvidence(next(iter(earlier.values())), vote))
        return self._messages.add_vote(vote)

    def _record_proposal(self, proposal: Proposal) -> None:
        if self._messages.proposal(proposal.round, proposal.block_id) is not None:
            return self._drop(DropReason.DUPLICATE)  # same block id, another signature or payload
        if not self._messages.proposal_room(proposal.round):
            return self._drop(DropReason.PROPOSAL_FLOOD)
        return self._messages.add_proposal(proposal)

    # -- signing, guarded by the last-signed record ---------------------------------------------

    def _may_sign(self, round_: int, step: Step, block_id: bytes | None) -> bool:
        if self._height < self._sign_from:
            return False
        if self._holds_own_other(round_, step, block_id):
            return False
        last = self._last_signed
        if last is None:
            return True
        here = (self._height, round_, step)
        there = (last.height, last.round, last.step)
        return here > there or (here == there and block_id == last.block_id)

    def _holds_own_other(self, round_: int, step: Step, block_id: bytes | None) -> bool:
        """A signature of this validator's key at (height, round_, step) for another value, held
        here: a peer relayed what this key signed before the record was lost (a restore, a wiped
        data dir, a twin). Signing again would be a double sign; the record cannot tell, so the
        signature itself does (issue 19, the guard's gap at height 1). (A held proposal of its own
        needs no rule: the core prevotes it and leaves the propose step.)"""
        if step == Step.PROPOSE:
            return False
        vote_type = VoteType.PREVOTE if step == Step.PREVOTE else VoteType.PRECOMMIT
        return any(held != block_id for held in self._messages.votes_of(round_, vote_type, self._index))

    def _persist(self, round_: int, step: Step, block_id: bytes | None, out: list[Action]) -> None:
        valid = self._valid_value
        proof = () if valid is None else self._proof_of_lock(valid)
        record = LastSigned(
            self._height,
            round_,
            step,
            block_id,
            self._locked_round,
            self._locked_value,
            self._valid_round,
            valid,
            proof,
            self._own_vote(round_, VoteType.PREVOTE) if step == Step.PRECOMMIT else None,
            self._earlier_precommit(round_),
        )
        self._last_signed = record
        out.append(PersistSigned(record))

    def _own_vote(self, round_: int, vote_type: VoteType) -> Vote | None:
        """This validator's vote of `vote_type` in `round_` at this height, if it signed one."""
        mine = self._messages.votes_of(round_, vote_type, self._index)
        return next(iter(mine.values()), None)

    def _earlier_precommit(self, round_: int) -> Vote | None:
        """For a record of `round_`: this validator's precommit of the latest round below it."""
        last = self._last_signed
        if last is None or last.height != self._height:
            return None
        if round_ > last.round and last.step == Step.PRECOMMIT:
            return self._own_vote(last.round, VoteType.PRECOMMIT) or last.earlier_precommit
        return last.earlier_precommit

    def _persist_round_state(self, out: list[Action]) -> None:
        """A new validValue with nothing to sign: persist it under the unchanged last-signed
        fields, if this node signed anything at this height (else there is no record to extend)."""
        last = self._last_signed
        if last is not None and last.height == self._height:
            self._persist(last.round, last.step, last.block_id, out)

    def _proof_of_lock(self, valid: Proposal) -> tuple[Vote, ...]:
        votes = self._messages.votes_for(self._valid_round, VoteType.PREVOTE, valid.block_id)
        assert len(votes) >= self._validators.quorum
        return tuple(votes)

    def _restore_valid(self, record: LastSigned) -> None:
        """Take back the valid value and its proof of lock after a restart (see `LastSigned`)."""
        if record.valid_proposal is None:
            return
        assert record.valid_proposal.height == self._height and record.valid_round <= record.round
        self._valid_round = record.valid_round
        self._valid_value = record.valid_proposal
        self._fired_line36.add(record.valid_round)  # it fired there before the crash
        self._messages.add_proposal(record.valid_proposal)
        for vote in record.valid_proof:
            self._messages.add_vote(vote)

    def _signed_vote(self, vote_type: VoteType, block_id: bytes | None) -> Vote:
        message = vote_signing_bytes(
            self._chain_id, vote_type, self._height, self._round, self._index, block_id
        )
        return Vote(vote_type, self._height, self._round, block_id, self._index, self._signer.sign(message))

    def _broadcast_vote(self, vote_type: VoteType, block_id: bytes | None, out: list[Action]) -> None:
        step = Step.PREVOTE if vote_type == VoteType.PREVOTE else Step.PRECOMMIT
        if self._height < self._sign_from:
            if all(kind != vote_type for kind, _ in self._withheld):  # the first of its type counts
                self._withheld.append((vote_type, block_id))
            assert len(self._withheld) <= 2, "one prevote and one precommit a round"
            return
        if not self._may_sign(self._round, step, block_id):
            self._refused_signatures += 1
            return
        vote = self._signed_vote(vote_type, block_id)
        self._persist(self._round, step, block_id, out)
        out.append(Broadcast(vote))
        self._record_vote(vote, out)

    def _sign_withheld(self, out: list[Action]) -> None:
        """SignWithheld: sign now what this round's rules had this node send while signing was
        held back — its proposal (as a late one: still of use to a peer in the propose step),
        then its prevote and precommit — in the order it cast them."""
        if self._height < self._sign_from:
            return
        proposal, self._withheld_proposal = self._withheld_proposal, None
        if proposal is not None:
            self._broadcast_proposal(proposal[0], proposal[1], out, proposal[2])
        withheld, self._withheld = self._withheld, []
        for vote_type, target in withheld:
            self._broadcast_vote(vote_type, target, out)

    def _broadcast_proposal(
        self, block_id: bytes, payload: bytes, out: list[Action], valid_round: int | None = None
    ) -> None:
        """`valid_round`: the one it had when cast (a withheld proposal), else the current."""
        vr = self._valid_round if valid_round is None else valid_round
        if self._height < self._sign_from:
            self._withheld_proposal = (block_id, payload, vr)
            return
        if not self._may_sign(self._round, Step.PROPOSE, block_id):
            self._refused_signatures += 1
            return
        message = proposal_signing_bytes(self._chain_id, self._height, self._round, vr, self._index, block_id)
        proposal = Proposal(
            self._height,
            self._round,
            vr,
            block_id,
            self._index,
            self._signer.sign(message),
            payload,
        )
        self._persist(self._round, Step.PROPOSE, block_id, out)
        out.append(Broadcast(proposal))
        if self._messages.proposal(proposal.round, block_id) is None and self._messages.proposal_room(
            proposal.round
        ):
            self._messages.add_proposal(proposal)

    def _broadcast_proof_of_lock(self, out: list[Action]) -> None:
        """Relay the 2f+1 prevotes of validRound with a re-proposal: line 28 needs them at every
        correct process, and a Byzantine equivocator may have shown them to this node only (the
        paper assumes gossip relays every message a correct process received)."""
        assert self._valid_value is not None
        for vote in self._messages.votes_for(self._valid_round, VoteType.PREVOTE, self._valid_value.block_id):
            if vote.validator != self._index:
                out.append(Broadcast(vote))

    def _is_valid(self, proposal: Proposal) -> bool:
        key = (proposal.round, proposal.valid_round, proposal.block_id)
        if key not in self._validity:
            self._validity[key] = self._valid(
                proposal.height, self._builders(proposal), proposal.block_id, proposal.payload
            )
        return self._validity[key]

    def _builders(self, proposal: Proposal) -> frozenset[int]:
        """Who may have built the proposed block: its proposer for a fresh value; for a re-proposed
        validValue, the proposer of the round it was first proposed in, which is at most
        validRound (by induction over the rounds: each polka's correct prevoters checked this)."""
        if proposal.valid_round < 0:
            return frozenset({proposal.proposer})
        return frozenset(self.proposer(r) for r in range(proposal.valid_round + 1))

    # -- StartRound and the shell round-trips ----------------------------------------------------

    def _begin(self, out: list[Action]) -> None:
        """StartRound(0) — or, after a restart inside a round where this node already voted, take
        up the step after that vote and send the vote again: it may have been persisted but never
        sent (a crash between PersistSigned and Broadcast), and without it the round may lack a
        quorum. After a precommit, the round's own prevote (kept in the record) goes again too.
        Signing the same bytes again is no double sign."""
        last = self._last_signed
        if last is not None and last.height == self._height and last.earlier_precommit is not None:
            # Peers still in that earlier round wait for its 2f+1 precommits, and the copy sent
            # before the crash may have reached no one (issue 19, soak seed 1006969: dropped by a
            # partition, then lost with the node's memory).
            earlier = last.earlier_precommit
            if earlier.round < last.round:
                self._send_kept(earlier, VoteType.PRECOMMIT, earlier.round, out)
        if last is None or last.height != self._height or last.step == Step.PROPOSE:
            return self._start_round(self._round, out)
        assert last.round == self._round
        self._step = last.step
        vote_type = VoteType.PREVOTE if last.step == Step.PREVOTE else VoteType.PRECOMMIT
        if last.step == Step.PRECOMMIT and self._valid_value is not None and self._valid_round == self._round:
            # This round's prevotes left with the crash (the record keeps the last vote only): a
            # peer that missed some would wait for a polka that never comes. Relay the one held.
            for prevote in self._messages.votes_for(
                self._round, VoteType.PREVOTE, self._valid_value.block_id
            ):
                out.append(Broadcast(prevote))
        if last.step == Step.PRECOMMIT:
            # The prevote of this round may have reached only some peers (or only a silent one):
            # without it a peer may never see the round's 2f+1 prevotes. (Held already if it was
            # in the polka just relayed.)
            self._send_kept(last.round_prevote, VoteType.PREVOTE, self._round, out)
        vote = self._signed_vote(vote_type, last.block_id)
        out.append(Broadcast(vote))
        return self._record_vote(vote, out)

    def _send_kept(self, kept: Vote | None, vote_type: VoteType, round_: int, out: list[Action]) -> None:
        """After a restart: send again a vote the last-signed record kept — the very bytes signed
        before the crash, no new signature — if it is this validator's `vote_type` of `round_`
        at this height (a damaged or foreign record's is not) and not held already; then hold it,
        so a stuck peer's resend carries it too."""
        if kept is None:
            return
        if (kept.type, kept.height, kept.round, kept.validator) != (
            vote_type,
            self._height,
            round_,
            self._index,
        ):
            return
        if self._messages.votes_of(round_, vote_type, self._index):
            return
        out.append(Broadcast(kept))
        self._record_vote(kept, out)

    def _schedule(self, kind: TimeoutKind, out: list[Action]) -> None:
        duration = self._timeouts.duration_ms(kind, self._round)
        out.append(ScheduleTimeout(kind, self._height, self._round, duration))

    def _start_round(self, round_: int, out: list[Action]) -> None:
        """Lines 11-21. Unlike the paper the proposer also sets timeoutPropose, so a proposer whose
        shell never answers (or whose signature is refused after a restart) cannot stall the round."""
        assert round_ >= self._round
        self._round = round_
        self._withheld = []
        self._withheld_proposal = None
        self._step = Step.PROPOSE
        self._awaiting_value = False
        if self.proposer(round_) == self._index:
            if self._valid_value is not None:
                self._broadcast_proposal(self._valid_value.block_id, self._valid_value.payload, out)
                self._broadcast_proof_of_lock(out)
            else:
                self._awaiting_value = True
                out.append(RequestProposal(self._height, round_, self.skipped))
        self._schedule(TimeoutKind.PROPOSE, out)

    def _leave_propose(self) -> None:
        """Step propose → prevote. A value the shell has not yet supplied is no longer wanted
        (e.g. a twin's proposal for our round arrived first)."""
        assert self._step == Step.PROPOSE
        self._step = Step.PREVOTE
        self._awaiting_value = False

    def _on_proposal_value(self, event: ProposalValue, out: list[Action]) -> None:
        """getValue() answered (line 18)."""
        current = (event.height, event.round) == (self._height, self._round)
        if not (current and self._awaiting_value) or len(event.block_id) != BLOCK_ID_BYTES:
            return self._drop(DropReason.STALE_VALUE)
        self._awaiting_value = False
        return self._broadcast_proposal(event.block_id, event.payload, out)

    def _on_timeout(self, event: Timeout, out: list[Action]) -> None:
        """Lines 57-67: a timeout only acts if the node is still where it was when it was set."""
        if (event.height, event.round) != (self._height, self._round):
            return
        if event.kind == TimeoutKind.PROPOSE and self._step == Step.PROPOSE:
            self._broadcast_vote(VoteType.PREVOTE, None, out)
            self._leave_propose()
        elif event.kind == TimeoutKind.PREVOTE and self._step == Step.PREVOTE:
            self._broadcast_vote(VoteType.PRECOMMIT, None, out)
            self._step = Step.PRECOMMIT
        elif event.kind == TimeoutKind.PRECOMMIT:
            self._start_round(self._round + 1, out)

    def _on_decided(self, event: Decided, out: list[Action]) -> None:
        """Catch-up: a certified decision for the current height stands for lines 49-54."""
        certificate = event.certificate
        if certificate.height != self._height:
            return self._drop(
                DropReason.OLD_HEIGHT if certificate.height < self._height else DropReason.FUTURE_HEIGHT
            )
        if not event.certificate_checked and not verify_certificate(
            certificate, self._chain_id, self._validators, self._verifier
        ):
            return self._drop(DropReason.BAD_CERTIFICATE)
        if self._built_by(certificate.block_id, event.payload) is None:
            return self._drop(DropReason.BAD_PAYLOAD)
        return self._decide(certificate.block_id, event.payload, certificate, out)

    # -- the upon rules --------------------------------------------------------------------------

    def _fire_rules(self, out: list[Action]) -> None:
        rules = (
            self._upon_line49_decide,
            self._upon_line55_round_skip,
            self._upon_line22_fresh_proposal,
            self._upon_line28_proposal_with_polka,
            self._upon_line34_prevote_any,
            self._upon_line36_polka_for_value,
            self._upon_line44_polka_for_nil,
            self._upon_line47_precommit_any,
        )
        for _ in range(MAX_RULE_FIRINGS_PER_STEP):
            if not any(rule(out) for rule in rules):
                return
        raise AssertionError(f"upon rules did not settle within {MAX_RULE_FIRINGS_PER_STEP} firings")

    def _upon_line22_fresh_proposal(self, out: list[Action]) -> bool:
        """⟨PROPOSAL, h, round, v, −1⟩ from proposer while step = propose."""
        if self._step != Step.PROPOSE:
            return False
        for proposal in self._messages.proposals(self._round):
            if proposal.valid_round == -1:
                acceptable = self._is_valid(proposal) and (
                    self._locked_round == -1 or self._locked_value == proposal.block_id
                )
                self._broadcast_vote(VoteType.PREVOTE, proposal.block_id if acceptable else None, out)
                self._leave_propose()
                return True
        return False

    def _upon_line28_proposal_with_polka(self, out: list[Action]) -> bool:
        """⟨PROPOSAL, h, round, v, vr⟩ from proposer and 2f+1 ⟨PREVOTE, h, vr, id(v)⟩ while
        step = propose ∧ 0 ≤ vr < round."""
        if self._step != Step.PROPOSE:
            return False
        quorum = self._validators.quorum
        for proposal in self._messages.proposals(self._round):
            vr = proposal.valid_round
            if (
                0 <= vr < self._round
                and self._messages.count(vr, VoteType.PREVOTE, proposal.block_id) >= quorum
            ):
                acceptable = self._is_valid(proposal) and (
                    self._locked_round <= vr or self._locked_value == proposal.block_id
                )
                self._broadcast_vote(VoteType.PREVOTE, proposal.block_id if acceptable else None, out)
                self._leave_propose()
                return True
        return False

    def _upon_line34_prevote_any(self, out: list[Action]) -> bool:
        """2f+1 ⟨PREVOTE, h, round, ∗⟩ while step = prevote, for the first time."""
        if self._step != Step.PREVOTE or self._round in self._fired_line34:
            return False
        if self._messages.count_any(self._round, VoteType.PREVOTE) < self._validators.quorum:
            return False
        self._fired_line34.add(self._round)
        self._schedule(TimeoutKind.PREVOTE, out)
        return True

    def _upon_line36_polka_for_value(self, out: list[Action]) -> bool:
        """⟨PROPOSAL, h, round, v, ∗⟩ from proposer and 2f+1 ⟨PREVOTE, h, round, id(v)⟩ while
        valid(v) ∧ step ≥ prevote, for the first time."""
        if self._step < Step.PREVOTE or self._round in self._fired_line36:
            return False
        for block_id in self._messages.ids_with(self._round, VoteType.PREVOTE, self._validators.quorum):
            proposal = self._messages.proposal(self._round, block_id)
            if proposal is None or not self._is_valid(proposal):
                continue
            self._fired_line36.add(self._round)
            # Lines 42-43 (validValue) are set before the precommit leaves so that the persisted
            # record carries them; nothing reads them in between.
            self._valid_value = proposal
            self._valid_round = self._round
            if self._step == Step.PREVOTE:
                self._locked_value = block_id
                self._locked_round = self._round
                self._broadcast_vote(VoteType.PRECOMMIT, block_id, out)
                self._step = Step.PRECOMMIT
            else:
                self._persist_round_state(out)
            return True
        return False

    def _upon_line44_polka_for_nil(self, out: list[Action]) -> bool:
        """2f+1 ⟨PREVOTE, h, round, nil⟩ while step = prevote."""
        if self._step != Step.PREVOTE:
            return False
        if self._messages.count(self._round, VoteType.PREVOTE, None) < self._validators.quorum:
            return False
        self._broadcast_vote(VoteType.PRECOMMIT, None, out)
        self._step = Step.PRECOMMIT
        return True

    def _upon_line47_precommit_any(self, out: list[Action]) -> bool:
        """2f+1 ⟨PRECOMMIT, h, round, ∗⟩ for the first time."""
        if self._round in self._fired_line47:
            return False
        if self._messages.count_any(self._round, VoteType.PRECOMMIT) < self._validators.quorum:
            return False
        self._fired_line47.add(self._round)
        self._schedule(TimeoutKind.PRECOMMIT, out)
        return True

    def _upon_line49_decide(self, out: list[Action]) -> bool:
        """⟨PROPOSAL, h, r, v, ∗⟩ and 2f+1 ⟨PRECOMMIT, h, r, id(v)⟩ while decision[h] = nil — for
        any round r.

        The proposal is where v comes from, and the precommits are the certificate; the value
        may come from any proposal of this height naming id(v) (its payload was checked to build
        id(v) on receipt), not only round r's. A node that holds round r's precommits but missed
        its proposal, and has moved to a later round, is sent no more of round r's messages
        (`node.repair.resend`); the peers that precommitted may wait at round r for its
        precommit, which it never signed: without this, nobody decides (sim seed 511190)."""
        quorum = self._validators.quorum
        for round_ in self._messages.vote_rounds(VoteType.PRECOMMIT):
            for block_id in self._messages.ids_with(round_, VoteType.PRECOMMIT, quorum):
                proposal = self._value_of(round_, block_id)
                if proposal is None:
                    continue
                precommits = self._messages.votes_for(round_, VoteType.PRECOMMIT, block_id)
                signatures = tuple((vote.validator, vote.signature) for vote in precommits)
                certificate = Certificate(self._height, round_, block_id, signatures)
                self._decide(block_id, proposal.payload, certificate, out)
                return True
        return False

    def _value_of(self, round_: int, block_id: bytes) -> Proposal | None:
        """A valid proposal of this height for `block_id`: round `round_`'s if held, else the
        lowest round's."""
        own = self._messages.proposal(round_, block_id)
        if own is not None and self._is_valid(own):
            return own
        others = (p for p in self._messages.proposals_of(block_id) if p.round != round_)
        return next((p for p in others if self._is_valid(p)), None)

    def _upon_line55_round_skip(self, out: list[Action]) -> bool:
        """f+1 ⟨∗, h, round, ∗, ∗⟩ with round > round_p: someone correct is ahead; follow."""
        ahead = self._messages.highest_round_with_senders(self._validators.skip, above=self._round)
        if ahead is None:
            return False
        self._start_round(ahead, out)
        return True

    def _decide(self, block_id: bytes, payload: bytes, certificate: Certificate, out: list[Action]) -> None:
        """Lines 49-54: decide, move to the next height, start round 0; what was buffered for the
        new height is replayed at the next step, once the shell has applied the block."""
        assert len(certificate.signatures) >= self._validators.quorum
        builder = self._built_by(block_id, payload)
        # valid(v) or `_on_decided` checked the payload, and 2f+1 precommits mean a correct
        # validator held its builder to a validator of this set.
        assert builder is not None and builder in self._validators, (self._height, builder)
        out.append(Commit(self._height, block_id, payload, certificate, builder))
        self._recent.append(leader.Turn(builder, self._ready_in(block_id, payload)))
        self._height += 1
        self._reset_height()
        # What arrived early for the new height waits until the shell has applied this block
        # (the next step): judging a proposal's valid(v) now would see the parent's state.
        # Slots already reported as evidence are not reported again at the new height.
        self._evidenced = {(r, VoteType(kind), v) for r, kind, v in self._next_height.evidenced()}
        self._deferred = self._next_height.drain()
        self._next_height = self._new_next_height()
        self._start_round(0, out)

    def _replay_deferred(self, out: list[Action]) -> None:
        deferred, self._deferred = self._deferred, []
        for message in deferred:
            if message.height != self._height:
                continue  # a later Decided moved past it
            if isinstance(message, Vote):
                self._record_vote(message, out)
            elif message.proposer != self.proposer(message.round):
                self._drop(DropReason.WRONG_PROPOSER)
            else:
                self._record_proposal(message)
