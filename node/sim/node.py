"""One simulated validator: the consensus core with the node's own `Peers` service, on a clock
and a network the simulation owns — what a node process does, minus sockets and disks.

It carries out the core's actions in order, as `node/shell.py` does; keeps a "disk" that survives
crashes (the last-signed record and the chain); and runs the node's own services on virtual time:
`Peers` (over `node.clock.Clock`) queues its messages, answers a stuck peer's status with what
`node.repair.resend` picks at most once per `ResendLimit` interval, and runs the stuck watchdog;
`RoundTimers` turns the core's timeouts into timers; catch-up (node/sim/catchup.py) asks the
peer `node.repair.plan_fetch` chooses and judges it with `judge_fetch`, as `node/catchup.py`
does. Blocks are the simulator's (node/sim/blocks.py). Messages travel as the wire records the
node sends.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from typing import Final

from node.consensus import (
    Action,
    Applied,
    Broadcast,
    Commit,
    Consensus,
    Event,
    PersistSigned,
    ProposalValue,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
    Signer,
    Start,
    TimeoutConfig,
    ValidatorSet,
    Validity,
    Verifier,
    Vote,
    leader,
)
from node.metrics import NodeMetrics
from node.peers import Peers
from node.round_timers import RoundTimers
from node.signing_gate import SigningGate
from node.sim.blocks import CHAIN_ID, Committed, make_value, sim_built_by, sim_ready_in, sim_valid
from node.sim.catchup import Serve, SimCatchup, serve_honestly
from node.sim.network import FetchReply, FetchRequest
from node.sim.world import Disk, Message, Port, SimClock, signing_gate
from node.wire import consensus_message
from proto.votestore.v1 import peer_pb2
from votestore.blocks import READY_MAX_AGE, ready_height
from votestore.errors import DecodeError

SIM_TIMEOUTS: Final = TimeoutConfig(propose_ms=300, prevote_ms=150, precommit_ms=150, delta_ms=100)
Outbound = Callable[[peer_pb2.PeerMessage, int], list[peer_pb2.PeerMessage]]
"""A Byzantine node's filter: what it sends to `dst` instead of one queued wire message."""


class SimNode:
    def __init__(
        self,
        *,
        instance: int,
        validator: int,
        validators: ValidatorSet,
        instances: int,
        signer: Signer,
        verifier: Verifier,
        port: Port,
        outbound: Outbound | None = None,
        serve: Serve | None = serve_honestly,
        hello_height: int | None = None,
        valid: Validity = sim_valid,
    ) -> None:
        self.instance = instance
        self.validator = validator
        self.disk = Disk()
        self.evidence: list[RecordEvidence] = []
        self.core: Consensus | None = None
        self.incarnation = 0
        self.dropped: Counter[str] = Counter()
        """Wire messages that did not decode, and catch-up blocks that failed their checks."""
        self._validators = validators
        self._instances = instances
        self._signer = signer
        self._verifier = verifier
        self._port = port
        self._outbound = outbound
        self._serve = serve
        self._hello_height = hello_height
        self._valid = valid
        self._crash_after: int | None = None
        self._crash_forget = False
        self._heard: dict[int, set[int]] = {}  # validator -> heights of its votes received (latest few)
        self._pending: deque[Event] = deque()  # events `run` has yet to feed (one run at a time)
        self._running = False
        self.signing: SigningGate | None = None
        self._clock = SimClock(port, instance, 0)
        self.peers = self._new_peers(self._clock)
        self.timers = RoundTimers(self._clock, self.run)
        self._catchup = self._new_catchup(self._clock)

    def _new_peers(self, clock: SimClock) -> Peers:
        return Peers(
            n=self._instances,
            index=self.instance,
            height=lambda: len(self.disk.chain),
            clock=clock,
            metrics=NodeMetrics(),
            held=lambda: () if self.core is None else self.core.held_votes(),
        )

    def _new_catchup(self, clock: SimClock) -> SimCatchup:
        return SimCatchup(
            clock=clock,
            send=lambda dst, message: self._port.send(self.instance, dst, message),
            heights=lambda: self.peers.heights,
            chain=self.disk.chain,
            validators=self._validators,
            verifier=self._verifier,
            decided=self.run,
            dropped=self.dropped,
        )

    # ------------------------------------------------------------------ life

    def boot(self) -> None:
        """Start, or restart from the disk after a crash: memory (peers, heights, catch-up
        state, this height's own messages) starts empty, as in a node process."""
        assert self.core is None
        self.incarnation += 1
        clock = SimClock(self._port, self.instance, self.incarnation)
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
        self._pending.clear()
        self.signing = signing_gate(
            self.core, self.disk, self.validator, self._validators, self._verifier, self.run
        )
        self._clock = clock
        self.peers = self._new_peers(clock)
        self.timers = RoundTimers(clock, self.run)
        self._catchup = self._new_catchup(clock)
        core = self.core
        self.peers.watch_progress(lambda: core.round)
        self._catchup.start()
        self.run(Start())

    def crash(self, forget: bool = False) -> None:
        """Stop; `forget` (or an armed crash's): the last-signed record is lost too (amnesia)."""
        assert self.core is not None
        self.core = None
        self.signing = None
        self._pending.clear()
        self.incarnation += 1
        if forget or self._crash_forget:
            self.disk.last_signed = None
            self.disk.cleared = False
        self._crash_after = None
        self._crash_forget = False

    def arm_crash(self, after_actions: int, forget: bool = False) -> None:
        """Crash in the middle of a step, after carrying out `after_actions` more actions."""
        assert self.core is not None and after_actions >= 0
        self._crash_after = after_actions
        self._crash_forget = forget

    def flush(self) -> None:
        """Hand what `Peers` queued to the network (through a Byzantine filter, if any)."""
        if self.core is None:
            return
        for peer in range(self._instances):
            if peer == self.instance:
                continue
            for wire in self.peers.take_queued(peer):
                if self._outbound is None:
                    self._port.send(self.instance, peer, wire)
                else:
                    for message in self._outbound(wire, peer):
                        self._port.send(self.instance, peer, message)

    def hello_height(self) -> int:
        """The height this node's hello claims when a link (re)connects."""
        return len(self.disk.chain) if self._hello_height is None else self._hello_height

    def link_up(self, peer: SimNode) -> None:
        """A link to `peer` came up (one of the two restarted), as `node/rpc/peer.py` and
        `peer_link.py` set one up: each side hears the other's hello height, and sends it this
        height's own messages first (`Peers.reconnected`)."""
        if self.core is None or peer.core is None:
            return
        self.peers.up(peer.instance)
        self.peers.heard_height(peer.instance, peer.hello_height())
        self._gate().peer_heights(self.peers.heights)
        self.peers.session_started(peer.instance)
        for wire in self.peers.reconnected(peer.instance):
            for message in [wire] if self._outbound is None else self._outbound(wire, peer.instance):
                self._port.send(self.instance, peer.instance, message)

    # ------------------------------------------------------------------ arriving

    def deliver(self, src: int, message: Message) -> None:
        """A peer message, dispatched as `NodeShell.on_peer_message` does; catch-up traffic."""
        if self.core is None:
            return
        if isinstance(message, FetchRequest):
            if self._serve is not None:
                reply = self._serve(message, self.disk.chain)
                if reply is not None:
                    self._port.send(self.instance, src, reply)
            return None
        if isinstance(message, FetchReply):
            return self._catchup.fetched(src, message)
        try:
            event = consensus_message(message)
        except DecodeError:
            self.dropped["undecodable"] += 1
            return None
        if event is not None:
            if isinstance(event, Vote):
                heights = self._heard.setdefault(event.validator, set())
                heights.add(event.height)
                if len(heights) > READY_MAX_AGE + 1:
                    heights.discard(min(heights))
            self._gate().message(event)
            return self.run(event)
        kind = message.WhichOneof("kind")
        if kind == "status":
            self.peers.on_status(src, message.status)
            return self._gate().peer_heights(self.peers.heights)
        self.dropped[f"unexpected_{kind}"] += 1
        return None

    # ------------------------------------------------------------------ the core's actions

    def run(self, first: Event) -> None:
        """Feed one event, and the answers its actions ask for, carrying out actions in order;
        an armed crash cuts the list short. An event fed while a step's actions are carried out
        (the signing gate's, after a commit) waits for them, as in the node's event queue."""
        self._pending.append(first)
        if self._running:
            return
        self._running = True
        try:
            while self._pending and self.core is not None:
                for action in self.core.step(self._pending.popleft()):
                    if self._crash_after == 0:
                        return self.crash()
                    if self._crash_after is not None:
                        self._crash_after -= 1
                    follow_up = self._carry_out(action)
                    if follow_up is not None:
                        self._pending.append(follow_up)
        finally:
            self._running = False

    def _gate(self) -> SigningGate:
        assert self.signing is not None, "booted"
        return self.signing

    def _carry_out(self, action: Action) -> Event | None:
        """One action, in order; returns an event to feed back (getValue's answer)."""
        assert self.core is not None
        if isinstance(action, PersistSigned):
            self.disk.last_signed = action.record
        elif isinstance(action, Broadcast):
            # The checkers see what the core signed even if a Byzantine filter never sends it on.
            self._port.record_signed(self.instance, action.message)
            self.peers.broadcast_own(action.message)
        elif isinstance(action, ScheduleTimeout):
            self.timers.schedule(action)
        elif isinstance(action, RequestProposal):
            chosen = {v: ready_height(self._heard.get(v, ()), action.height) for v in action.skipped}
            ready = frozenset((v, h) for v, h in chosen.items() if h is not None)
            block_id, payload = make_value(
                action.height, action.round, self.instance, self.validator, ready=ready
            )
            return ProposalValue(action.height, action.round, block_id, payload)
        elif isinstance(action, Commit):
            assert action.height == len(self.disk.chain) + 1, "commits must arrive in height order"
            self.disk.chain.append(
                Committed(action.height, action.block_id, action.payload, action.certificate, action.proposer)
            )
            self.peers.height_committed(action.height)
            self._gate().committed(action, self.peers.heights)
            return Applied()  # as the node's shell does once the block is applied
        else:
            assert isinstance(action, RecordEvidence)
            self.evidence.append(action)
        return None
