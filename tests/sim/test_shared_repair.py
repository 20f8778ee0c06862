"""The simulator repairs by the node's own rules (node/repair.py), not a copy: the same functions
are called from both, and on one fixture the node's `Peers` and a simulated node resend the very
same messages to a stuck peer, and both keep a liar claiming a huge height from every fetch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from node import catchup, peers, repair
from node.clock import VirtualClock
from node.consensus import Proposal, ValidatorSet, Vote, VoteType
from node.metrics import NodeMetrics
from node.sim import node as sim_node
from node.sim.keys import fake_keys
from node.sim.network import Status
from node.sim.node import Message, SimNode
from proto.votestore.v1 import peer_pb2

N = 4
STUCK_PEER = 1
ID = b"\x11" * 32
SIG = b"\x00" * 64


def _vote(kind: VoteType, round_: int) -> Vote:
    return Vote(kind, 1, round_, ID, 0, SIG)


def _proposal(round_: int, valid_round: int = -1) -> Proposal:
    return Proposal(1, round_, valid_round, ID, 0, SIG, b"")


OWN: list[Proposal | Vote] = [
    _proposal(0),
    _vote(VoteType.PREVOTE, 0),
    _vote(VoteType.PRECOMMIT, 0),
    _vote(VoteType.PREVOTE, 1),
    _vote(VoteType.PRECOMMIT, 1),
    _proposal(2, valid_round=1),
    _vote(VoteType.PREVOTE, 2),
]
"""This node's messages of height 1, rounds 0-2 (what it signed before its peer got stuck)."""


def test_node_and_simulator_call_the_same_repair_functions() -> None:
    assert sim_node.resend is peers.resend is repair.resend
    assert sim_node.ResendLimit is peers.ResendLimit is repair.ResendLimit
    assert sim_node.CatchupPeers is catchup.CatchupPeers is repair.CatchupPeers


def _node_resends(stuck_round: int) -> list[int]:
    """Indexes into OWN of what the node's Peers queue for a peer stuck at (1, stuck_round)."""
    clock = VirtualClock()
    service = peers.Peers(n=N, index=0, height=lambda: 0, clock=clock, metrics=NodeMetrics())
    for message in OWN:
        service.broadcast_own(message)
    service.session_started(STUCK_PEER)  # empties its outbox
    service.on_status(STUCK_PEER, peer_pb2.PeerStatus(height=0, round=stuck_round, stuck=True))
    wires = [peers.to_wire(message) for message in OWN]

    async def drain() -> list[peer_pb2.PeerMessage]:
        out = []
        while True:
            try:
                out.append(await asyncio.wait_for(service.next_for(STUCK_PEER), 0.01))
            except TimeoutError:
                return out

    return [wires.index(wire) for wire in asyncio.run(drain())]


@dataclass
class _Port:
    now_ms: int = 0
    sent: list[tuple[int, int, Message]] = field(default_factory=list)

    def send(self, src: int, dst: int, message: Message) -> None:
        self.sent.append((src, dst, message))

    def set_timer(self, instance: int, delay_ms: int, event: object) -> None:
        pass

    def record_signed(self, instance: int, message: Proposal | Vote) -> None:
        pass


def _sim_node(port: _Port, instance: int = 3) -> SimNode:
    signers, verifier = fake_keys(1, N)
    node = SimNode(
        instance=instance,
        validator=instance,
        validators=ValidatorSet(N),
        peers=[p for p in range(N) if p != instance],
        signer=signers[instance],
        verifier=verifier,
        port=port,
        outbound=lambda message, to: [(p, message) for p in to],
    )
    node.boot()
    port.sent.clear()
    return node


def _sim_resends(stuck_round: int) -> list[int]:
    port = _Port()
    node = _sim_node(port)
    node.disk.sent = list(OWN)
    node.deliver(STUCK_PEER, Status(STUCK_PEER, 1, stuck_round))
    return [OWN.index(m) for _, dst, m in port.sent if dst == STUCK_PEER]  # type: ignore[arg-type]


@pytest.mark.parametrize("stuck_round", [0, 1, 2, 3])
def test_node_and_simulator_resend_the_same_messages_to_a_stuck_peer(stuck_round: int) -> None:
    expected = [
        i for i, m in enumerate(OWN) if m.round >= stuck_round or (isinstance(m, Vote) and m.type == 1)
    ]
    assert _node_resends(stuck_round) == _sim_resends(stuck_round) == expected


TICKS = 20
TICK_S = 0.5
CLAIMS = {1: 2**62, 2: 5, 3: 5}
"""Consensus heights the peers' status messages claim: peer 1 lies."""


def _sim_fetches() -> list[int | None]:
    """The peer a stuck simulated node asks for the decided block at each tick, when no block
    ever comes (each asked peer is set aside at the next tick)."""
    port = _Port()
    node = _sim_node(port, instance=0)
    for peer, height in CLAIMS.items():
        node.deliver(peer, Status(peer, height, 0))
    asked: list[int | None] = []
    for tick in range(TICKS):
        port.sent.clear()
        port.now_ms = int(tick * TICK_S * 1000)
        node.tick()
        asked.append(next((dst for _, dst, m in port.sent if isinstance(m, Status) and m.fetch), None))
    return asked[1:]  # the first tick only notes the position


@dataclass
class _Shell:
    """What node/catchup.py reads of a shell."""

    clock: VirtualClock
    heights: dict[int, int]
    catching_up: bool = False
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    store: object = field(default_factory=lambda: type("S", (), {"height": 0})())

    @property
    def peers(self) -> object:
        return type("P", (), {"heights": self.heights})()


def _node_fetches() -> list[int | None]:
    """The peer the node's catch-up asks at each tick, when every fetch takes a tick and serves
    nothing."""
    clock = VirtualClock()
    shell = _Shell(clock, {peer: height - 1 for peer, height in CLAIMS.items()})
    lag, choice = catchup.Lag(), repair.CatchupPeers()

    async def fetch(shell: object, peer: int, address: str, first: int, last: int) -> tuple[int, bool]:
        clock.advance(TICK_S)
        return 0, False

    async def run() -> list[int | None]:
        asked: list[int | None] = []
        for tick in range(1, TICKS):
            clock.advance(tick * TICK_S - clock.now())
            addresses = dict.fromkeys(CLAIMS, "")
            asked.append(await catchup.catch_up_once(shell, addresses, lag, choice, fetch))  # type: ignore[arg-type]
        return asked

    return asyncio.run(run())


def test_node_and_simulator_choose_the_same_catch_up_peers_and_set_the_same_aside() -> None:
    sim, node = _sim_fetches(), _node_fetches()
    assert sim == node, (sim, node)
    assert set(sim) >= {1, 2, 3, None}  # rotation, set-asides and a wait with all set aside
