"""The simulator runs the node's own services, not a copy: a simulated node holds the validator's
`Peers` (outboxes, heights, resend, stuck watchdog) on a clock the simulation owns, and catches up
by the very functions `node/catchup.py` calls. On one fixture the node's services and a simulated
node send the same resends to a stuck peer, raise the same stuck status, and ask (and set aside)
the same catch-up peers; a change to either side's rule makes these fail."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from node import catchup, peers, repair
from node.clock import Timer, VirtualClock
from node.consensus import ScheduleTimeout, Timeout, TimeoutKind, ValidatorSet, Vote, VoteType, signing_bytes
from node.metrics import NodeMetrics
from node.peers import to_wire
from node.round_timers import RoundTimers
from node.sim import catchup as sim_catchup
from node.sim.blocks import CHAIN_ID
from node.sim.catchup import FETCH_TIMEOUT_S
from node.sim.keys import fake_keys
from node.sim.network import FetchRequest
from node.sim.node import SimNode
from node.sim.world import Message
from node.wire import proposal_from_wire, vote_from_wire
from proto.votestore.v1 import peer_pb2

N = 4
STUCK_PEER = 1


@dataclass
class _Port:
    """The simulated world of one node: a virtual clock, and a record of what it sent when."""

    clock: VirtualClock = field(default_factory=VirtualClock)
    sent: list[tuple[float, int, Message]] = field(default_factory=list)

    @property
    def now_ms(self) -> int:
        return round(self.clock.now() * 1000)

    def send(self, src: int, dst: int, message: Message) -> None:
        self.sent.append((self.clock.now(), dst, message))

    def call_later(
        self, instance: int, incarnation: int, delay_s: float, callback: Callable[[], None]
    ) -> Timer:
        return self.clock.call_later(delay_s, callback)

    def record_signed(self, instance: int, message: object) -> None:
        pass


def _sim_node(port: _Port, instance: int) -> SimNode:
    signers, verifier = fake_keys(1, N)
    node = SimNode(
        instance=instance,
        validator=instance,
        validators=ValidatorSet(N),
        instances=N,
        signer=signers[instance],
        verifier=verifier,
        port=port,
    )
    node.boot()
    return node


def _advance(port: _Port, node: SimNode, seconds: float, step: float = 0.05) -> None:
    """Move time on, handing what the node queued to the port after each step (as the
    simulation does after each event)."""
    until = port.clock.now() + seconds
    while port.clock.now() < until - 1e-9:
        port.clock.advance(min(step, until - port.clock.now()))
        node.flush()


def _node_peers(clock: VirtualClock, held: tuple[Vote, ...] = ()) -> peers.Peers:
    return peers.Peers(n=N, index=0, height=lambda: 0, clock=clock, metrics=NodeMetrics(), held=lambda: held)


def _take(service: peers.Peers, peer: int) -> list[peer_pb2.PeerMessage]:
    return service.take_queued(peer)


def test_the_simulated_node_holds_the_node_services_and_calls_the_same_rules() -> None:
    node = _sim_node(_Port(), 0)
    assert type(node.peers) is peers.Peers
    assert type(node.timers) is RoundTimers
    assert len(node.timers) >= 1, "the core's first timeout runs on the node's RoundTimers"
    shared = {
        "plan_fetch": (sim_catchup, catchup),
        "judge_fetch": (sim_catchup, catchup),
        "CatchupPeers": (sim_catchup, catchup),
        "Lag": (sim_catchup, catchup),
        "resend": (peers,),
        "ResendLimit": (peers,),
    }
    for name, users in shared.items():
        assert all(vars(user)[name] is vars(repair)[name] for user in users), name
    assert vars(sim_catchup)["CATCHUP_TICK_S"] is catchup.CATCHUP_TICK_S


def _consensus(messages: list[tuple[float, int, Message]], dst: int) -> list[peer_pb2.PeerMessage]:
    return [
        m
        for _, to, m in messages
        if to == dst and isinstance(m, peer_pb2.PeerMessage) and m.WhichOneof("kind") in ("proposal", "vote")
    ]


def test_node_and_simulator_resend_the_same_messages_to_a_stuck_peer() -> None:
    """The simulated node, alone, signs its way through a few rounds of height 1; a peer then
    reports being stuck there. It must send exactly what the node's `Peers`, holding the same
    messages and the same votes of others, sends — and that is what `node.repair.resend` picks:
    its own messages, then the others' votes it holds, at most once a second."""
    port = _Port()
    node = _sim_node(port, 0)
    signers = fake_keys(1, N)[0]
    others: list[Vote] = []
    for round_ in range(3):  # the others vote nil: the node moves through rounds 0-2
        for kind in (VoteType.PREVOTE, VoteType.PRECOMMIT):
            for validator in (1, 2, 3):
                vote = Vote(kind, 1, round_, None, validator, b"")
                vote = replace(vote, signature=signers[validator].sign(signing_bytes(CHAIN_ID, vote)))
                others.append(vote)
                node.deliver(validator, to_wire(vote))
            _advance(port, node, 0.5)
    own = _consensus(port.sent, 2)  # everything it signed went to every peer
    rounds = sorted({(m.proposal if m.HasField("proposal") else m.vote).round for m in own})
    assert len(rounds) >= 3 and any(m.HasField("proposal") for m in own), rounds
    for stuck_round in rounds:
        port.clock.advance(repair.RESEND_MIN_INTERVAL_S)
        port.sent.clear()
        status = peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=0, round=stuck_round, stuck=True))
        node.deliver(STUCK_PEER, status)
        node.flush()
        simulated = _consensus(port.sent, STUCK_PEER)

        clock = VirtualClock()
        clock.advance(port.clock.now())
        service = _node_peers(clock, tuple(others))
        for wire in own:
            message = (
                proposal_from_wire(wire.proposal) if wire.HasField("proposal") else vote_from_wire(wire.vote)
            )
            service.broadcast_own(message)
        service.session_started(STUCK_PEER)  # empties its outbox
        service.on_status(STUCK_PEER, status.status)
        assert simulated == _take(service, STUCK_PEER), stuck_round
        expected = [
            m
            for m in own
            if (m.proposal.round if m.HasField("proposal") else m.vote.round) >= stuck_round
            or (m.HasField("vote") and m.vote.type == 1)
        ]
        expected += [to_wire(v) for v in others if v.round >= stuck_round or v.type == VoteType.PREVOTE]
        assert simulated == expected, stuck_round
    node.deliver(STUCK_PEER, status)  # again at once: too soon
    port.sent.clear()
    node.flush()
    assert _consensus(port.sent, STUCK_PEER) == []


def test_node_and_simulator_raise_the_same_stuck_status() -> None:
    """No commit for a while: both send every peer the same stuck status, at the same times."""
    port = _Port()
    node = _sim_node(port, 0)
    _advance(port, node, 2 * peers.STUCK_AFTER_S + 0.5)
    simulated = [
        (round(t, 3), m.status.height, m.status.stuck)
        for t, to, m in port.sent
        if to == 2 and isinstance(m, peer_pb2.PeerMessage) and m.HasField("status")
    ]

    clock = VirtualClock()
    service = _node_peers(clock)
    service.watch_progress(lambda: 0)
    statuses = []
    while clock.now() < 2 * peers.STUCK_AFTER_S + 0.5:
        clock.advance(0.05)
        statuses += [(round(clock.now(), 3), m) for m in _take(service, 2) if m.HasField("status")]
    expected = [(t, m.status.height, m.status.stuck) for t, m in statuses]
    assert simulated == expected
    assert [(height, stuck) for _, height, stuck in simulated] == [(0, True), (0, True)]
    for (at, _, _), due in zip(simulated, (peers.STUCK_AFTER_S, 2 * peers.STUCK_AFTER_S), strict=True):
        assert due <= at <= due + 0.05 + 1e-9  # sent within the step the watchdog fired in


CLAIMS = {1: 2**62, 2: 4, 3: 4}
"""Committed heights the peers' status messages claim: peer 1 lies. None of them ever serves."""
RUN_S = 20.0


def test_node_and_simulator_choose_the_same_catch_up_peers_and_set_the_same_aside() -> None:
    """A node behind its peers, none of which answers a fetch: the simulated node and the node's
    catch-up (`catch_up_once`), asked at the same moments, ask the same peers, in turn, liar
    included but never more than its turn, and wait while all are set aside."""
    port = _Port()
    node = _sim_node(port, 0)
    for peer, height in CLAIMS.items():
        node.deliver(peer, peer_pb2.PeerMessage(status=peer_pb2.PeerStatus(height=height)))
    _advance(port, node, RUN_S)
    simulated = [(round(t, 3), to) for t, to, m in port.sent if isinstance(m, FetchRequest)]

    clock = VirtualClock()
    service = _node_peers(clock)
    for peer, height in CLAIMS.items():
        service.heard_height(peer, height)
    shell = _Shell(clock, service)
    lag, choice = repair.Lag(), repair.CatchupPeers()

    async def fetch(shell: object, peer: int, address: str, first: int, last: int) -> tuple[int, bool]:
        clock.advance(FETCH_TIMEOUT_S)  # no answer: the call fails after this long
        return 0, False

    async def run() -> list[tuple[float, int]]:
        asked = []
        tick = 0
        while clock.now() < RUN_S:
            tick += 1
            clock.advance(max(0.0, tick * catchup.CATCHUP_TICK_S - clock.now()))
            at = round(clock.now(), 3)
            peer = await catchup.catch_up_once(shell, dict.fromkeys(CLAIMS, ""), lag, choice, fetch)  # type: ignore[arg-type]
            if peer is not None:
                asked.append((at, peer))
                tick = round(clock.now() / catchup.CATCHUP_TICK_S)  # catch_up_forever sleeps a tick after
        return asked

    node_asked = asyncio.run(run())
    assert simulated == node_asked, (simulated, node_asked)
    peers_asked = [peer for _, peer in simulated]
    assert set(peers_asked) == {1, 2, 3}
    assert peers_asked.count(1) <= len(peers_asked) // 3 + 1  # the liar gets its turn, no more
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(simulated)]
    assert max(gaps) > FETCH_TIMEOUT_S + catchup.CATCHUP_TICK_S  # all set aside: it waited


@dataclass
class _Shell:
    """What node/catchup.py reads of a shell."""

    clock: VirtualClock
    peers: peers.Peers
    catching_up: bool = False
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    store: object = field(default_factory=lambda: type("S", (), {"height": 0})())


def test_the_round_timers_feed_each_timeout_back_once_in_time_order_and_stop_cancels() -> None:
    """The one timeout service of node and simulator: what the core scheduled comes back as its
    Timeout event at its time; a stopped node's timers feed nothing."""
    clock = VirtualClock()
    fed: list[tuple[float, Timeout]] = []
    timers = RoundTimers(clock, lambda event: fed.append((clock.now(), event)))  # type: ignore[arg-type]
    for kind, ms in ((TimeoutKind.PRECOMMIT, 300), (TimeoutKind.PROPOSE, 100)):
        timers.schedule(ScheduleTimeout(kind, 1, 0, ms))
    clock.advance(0.5)
    assert fed == [
        (0.1, Timeout(TimeoutKind.PROPOSE, 1, 0)),
        (0.3, Timeout(TimeoutKind.PRECOMMIT, 1, 0)),
    ]
    assert len(timers) == 0
    timers.schedule(ScheduleTimeout(TimeoutKind.PREVOTE, 2, 0, 100))
    timers.stop()
    clock.advance(1.0)
    assert len(fed) == 2 and len(timers) == 0
