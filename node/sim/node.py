"""The simulated shell around one `Consensus`: what a node process does, minus sockets and disks.

It carries out actions in order, keeps a "disk" that survives crashes (last-signed record, the
chain, its own messages of the current height), and repairs by the node's own rules
(`node.repair`): a stuck peer's `Status` is answered with what `resend` picks, at most once per
`ResendLimit` interval, and a node that is stuck asks for the decided block from the peer
`CatchupPeers` chooses among those whose messages show them ahead — the gossip that makes lost
messages arrive eventually, as the paper's model assumes after GST.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from node.consensus import (
    Action,
    Applied,
    Broadcast,
    Certificate,
    Commit,
    Consensus,
    Decided,
    Event,
    LastSigned,
    PersistSigned,
    Proposal,
    ProposalValue,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
    Signer,
    Start,
    Step,
    Timeout,
    TimeoutConfig,
    ValidatorSet,
    Validity,
    Verifier,
    Vote,
    leader,
)
from node.repair import CatchupPeers, ResendLimit, resend
from node.sim.network import Status, SyncBlock
from votestore.blocks import READY_MAX_AGE
from votestore.hashing import sha256

CHAIN_ID: Final = "votestore-sim"
SIM_TIMEOUTS: Final = TimeoutConfig(propose_ms=300, prevote_ms=150, precommit_ms=150, delta_ms=100)
STATUS_INTERVAL_MS: Final = 500

Message = Proposal | Vote | Status | SyncBlock
Outbound = Callable[[Proposal | Vote, list[int]], list[tuple[int, Proposal | Vote]]]


def make_value(
    height: int,
    round_: int,
    instance: int,
    validator: int,
    salt: bytes = b"",
    ready: frozenset[int] = frozenset(),
) -> tuple[bytes, bytes]:
    """(block_id, payload) of the block an instance proposes; the id is the payload's hash, and
    the payload names its builder (`v=`, as a header names its proposer), the instance and the
    validators it carries readiness votes for (`ready=`, as a block's `ready` list)."""
    vouched = ",".join(str(v) for v in sorted(ready))
    payload = f"h={height};r={round_};v={validator};by={instance};ready={vouched};".encode() + salt
    return sha256(payload), payload


def sim_valid(height: int, builders: frozenset[int], block_id: bytes, payload: bytes) -> bool:
    """valid(v) in simulation: the id names the payload, which names this height and a builder
    among `builders`."""
    builder = sim_built_by(block_id, payload)
    return builder in builders and payload.startswith(f"h={height};".encode())


def _fields(block_id: bytes, payload: bytes) -> dict[bytes, bytes] | None:
    if sha256(payload) != block_id:
        return None
    return dict(f.split(b"=", 1) for f in payload.split(b";") if b"=" in f)


def sim_built_by(block_id: bytes, payload: bytes) -> int | None:
    """BuiltBy in simulation: the `v=` field of a payload whose hash is the id."""
    fields = _fields(block_id, payload)
    try:
        return None if fields is None else int(fields[b"v"])
    except (KeyError, ValueError):
        return None


def sim_ready_in(block_id: bytes, payload: bytes) -> frozenset[int]:
    """ReadyIn in simulation: the `ready=` field. The simulator models a readiness vote as the
    builder having heard a vote of that validator for a recent height (`SimNode._heard`); the
    signature check on it is votestore.blocks.check_ready's, tested on its own."""
    fields = _fields(block_id, payload)
    vouched = b"" if fields is None else fields.get(b"ready", b"")
    try:
        return frozenset(int(v) for v in vouched.split(b",") if v)
    except ValueError:
        return frozenset()


class Port(Protocol):
    """What a node may do to the simulated world."""

    def send(self, src: int, dst: int, message: Message) -> None: ...

    def set_timer(self, instance: int, delay_ms: int, event: Timeout) -> None: ...

    def record_signed(self, instance: int, message: Proposal | Vote) -> None: ...

    @property
    def now_ms(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Committed:
    height: int
    block_id: bytes
    payload: bytes
    certificate: Certificate
    proposer: int


@dataclass(slots=True)
class Disk:
    """Survives a crash: what the real node keeps in LevelDB."""

    last_signed: LastSigned | None = None
    chain: list[Committed] = field(default_factory=list)
    sent: list[Proposal | Vote] = field(default_factory=list)  # own messages, current height


class SimNode:
    def __init__(
        self,
        *,
        instance: int,
        validator: int,
        validators: ValidatorSet,
        peers: list[int],
        signer: Signer,
        verifier: Verifier,
        port: Port,
        outbound: Outbound,
        answers_status: bool = True,
        valid: Validity = sim_valid,
    ) -> None:
        self.instance = instance
        self.validator = validator
        self.disk = Disk()
        self.evidence: list[RecordEvidence] = []
        self.core: Consensus | None = None
        self.incarnation = 0
        self._validators = validators
        self._peers = peers
        self._signer = signer
        self._verifier = verifier
        self._port = port
        self._outbound = outbound
        self._answers_status = answers_status
        self._valid = valid
        self._last_position: tuple[int, int, Step] | None = None
        self._crash_after: int | None = None
        self._heights: dict[int, int] = {}  # peers' committed heights, as their messages show
        self._catchup = CatchupPeers()
        self._asked: int | None = None  # the peer asked for the decided block at the last tick
        self._resends = ResendLimit(STATUS_INTERVAL_MS / 2000)
        self._heard: dict[int, set[int]] = {}  # validator -> heights of its votes received (latest few)

    def boot(self) -> None:
        """Start, or restart from the disk after a crash."""
        assert self.core is None
        self.incarnation += 1
        self.core = Consensus(
            chain_id=CHAIN_ID,
            validators=self._validators,
            index=self.validator,
            signer=self._signer,
            verifier=self._verifier,
            valid=self._valid,
            built_by=sim_built_by,
            ready_in=sim_ready_in,
            timeouts=SIM_TIMEOUTS,
            height=len(self.disk.chain) + 1,
            last_signed=self.disk.last_signed,
            recent=[
                leader.Turn(c.proposer, sim_ready_in(c.block_id, c.payload))
                for c in self.disk.chain[-leader.window(self._validators) :]
            ],
        )
        self._heard = {}
        self._last_position = None
        self._heights = {}  # memory only: lost in a crash, as in a node process
        self._catchup = CatchupPeers()
        self._asked = None
        self._resends = ResendLimit(STATUS_INTERVAL_MS / 2000)
        self.run(Start())

    def crash(self) -> None:
        assert self.core is not None
        self.core = None
        self.incarnation += 1
        self._crash_after = None

    def arm_crash(self, after_actions: int) -> None:
        """Crash in the middle of a step, after carrying out `after_actions` more actions."""
        assert self.core is not None and after_actions >= 0
        self._crash_after = after_actions

    def deliver(self, src: int, message: Message) -> None:
        if self.core is None:
            return
        if isinstance(message, SyncBlock):
            return self.run(Decided(message.certificate, message.payload))
        self._heights[src] = max(self._heights.get(src, 0), message.height - 1)
        if isinstance(message, Status):
            return self._answer_status(message)
        if isinstance(message, Vote):
            heights = self._heard.setdefault(message.validator, set())
            heights.add(message.height)
            if len(heights) > READY_MAX_AGE + 1:
                heights.discard(min(heights))
        return self.run(message)

    def tick(self) -> None:
        """Every STATUS_INTERVAL_MS: if stuck since the last tick, ask the peers for help, and
        the peer `CatchupPeers` chooses for the decided block; a peer asked at the last tick that
        left this node stuck is set aside."""
        assert self.core is not None
        position = (self.core.height, self.core.round, self.core.current_step)
        now = self._port.now_ms / 1000
        if position != self._last_position:
            if self._asked is not None:
                self._catchup.served(self._asked)
            self._asked = None
        else:
            if self._asked is not None:
                self._catchup.failed(self._asked, now)
            self._asked = self._catchup.choose(self._heights, len(self.disk.chain), now)
            for peer in self._peers:
                status = Status(self.instance, self.core.height, self.core.round, fetch=peer == self._asked)
                self._port.send(self.instance, peer, status)
        self._last_position = position

    def run(self, first: Event) -> None:
        """Feed one event, and the answers its actions ask for, carrying out actions in order;
        an armed crash cuts the list short."""
        pending: deque[Event] = deque([first])
        while pending and self.core is not None:
            for action in self.core.step(pending.popleft()):
                if self._crash_after == 0:
                    return self.crash()
                if self._crash_after is not None:
                    self._crash_after -= 1
                follow_up = self._carry_out(action)
                if follow_up is not None:
                    pending.append(follow_up)

    def _carry_out(self, action: Action) -> Event | None:
        """One action, in order; returns an event to feed back (getValue's answer)."""
        assert self.core is not None
        if isinstance(action, PersistSigned):
            self.disk.last_signed = action.record
        elif isinstance(action, Broadcast):
            # The checkers see what the core signed even if a Byzantine filter never sends it on:
            # it can still leave later, in an answer to a peer's Status.
            self.disk.sent.append(action.message)
            self._port.record_signed(self.instance, action.message)
            for dst, message in self._outbound(action.message, self._peers):
                if message is not action.message:
                    self._port.record_signed(self.instance, message)
                self._port.send(self.instance, dst, message)
        elif isinstance(action, ScheduleTimeout):
            timeout = Timeout(action.kind, action.height, action.round)
            self._port.set_timer(self.instance, action.duration_ms, timeout)
        elif isinstance(action, RequestProposal):
            ready = frozenset(
                v
                for v in action.skipped
                if any(action.height - READY_MAX_AGE <= h < action.height for h in self._heard.get(v, ()))
            )
            block_id, payload = make_value(
                action.height, action.round, self.instance, self.validator, ready=ready
            )
            return ProposalValue(action.height, action.round, block_id, payload)
        elif isinstance(action, Commit):
            assert action.height == len(self.disk.chain) + 1, "commits must arrive in height order"
            self.disk.chain.append(
                Committed(action.height, action.block_id, action.payload, action.certificate, action.proposer)
            )
            self.disk.sent = [m for m in self.disk.sent if m.height > action.height]
            return Applied()  # as the node's shell does once the block is applied
        else:
            assert isinstance(action, RecordEvidence)
            self.evidence.append(action)
        return None

    def _answer_status(self, status: Status) -> None:
        assert self.core is not None
        if not self._answers_status:
            return
        if status.height <= len(self.disk.chain):
            if status.fetch:
                committed = self.disk.chain[status.height - 1]
                block = SyncBlock(committed.certificate, committed.payload)
                self._port.send(self.instance, status.instance, block)
            return None
        if status.height == self.core.height and self._resends.allow(
            status.instance, self._port.now_ms / 1000
        ):
            for message in resend(self.disk.sent, status.height, status.round):
                self._port.send(self.instance, status.instance, message)
        return None
