"""What a simulated validator stands on: its port to the simulated world (network, timers, the
checkers' record of what it signed), its clock on virtual time, the disk that survives its
crashes, and the node's own signing gate (node/signing_gate.py, the amnesia guard) over them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from node.amnesia import AmnesiaGuard
from node.clock import Timer
from node.consensus import Consensus, Event, LastSigned, Proposal, ValidatorSet, Verifier, Vote
from node.metrics import NodeMetrics
from node.signing_gate import SigningGate
from node.sim.blocks import CHAIN_ID, Committed
from node.sim.network import FetchReply, FetchRequest
from proto.votestore.v1 import peer_pb2

Message = peer_pb2.PeerMessage | FetchRequest | FetchReply
SIM_EPOCH_MS: Final = 1_700_000_000_000
SIM_WATCH_HEIGHTS: Final = 3  # the node's default amnesia_watch_heights
_GATE_LOG: Final = logging.getLogger("votestore.sim.signing")
_GATE_LOG.addHandler(logging.NullHandler())  # thousands of runs: not one log line each
_GATE_LOG.propagate = False


class Port(Protocol):
    """What a node may do to the simulated world."""

    def send(self, src: int, dst: int, message: Message) -> None: ...

    def call_later(
        self, instance: int, incarnation: int, delay_s: float, callback: Callable[[], None]
    ) -> Timer:
        """A timer of one incarnation: it dies with a crash."""
        ...

    def record_signed(self, instance: int, message: Proposal | Vote) -> None: ...

    @property
    def now_ms(self) -> int: ...


class SimClock:
    """`node.clock.Clock` on the simulation's virtual time, for one incarnation of one node."""

    def __init__(self, port: Port, instance: int, incarnation: int) -> None:
        self._port = port
        self._instance = instance
        self._incarnation = incarnation

    def now(self) -> float:
        return self._port.now_ms / 1000

    def wall_ms(self) -> int:
        return SIM_EPOCH_MS + self._port.now_ms

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        return self._port.call_later(self._instance, self._incarnation, delay_s, callback)


@dataclass(slots=True)
class Disk:
    """Survives a crash: what the real node keeps in LevelDB."""

    last_signed: LastSigned | None = None
    chain: list[Committed] = field(default_factory=list)
    cleared: bool = False
    """The amnesia guard let this validator sign (`Store.cleared_to_sign`); lost with the record."""

    @property
    def height(self) -> int:
        return len(self.chain)

    def mark_cleared_to_sign(self) -> None:
        """As `Store.mark_cleared_to_sign`: the simulator never restores a backup, so there
        is no watch mark to clear; the store remembers it was cleared to sign."""
        self.cleared = True


def signing_gate(
    core: Consensus,
    disk: Disk,
    validator: int,
    validators: ValidatorSet,
    verifier: Verifier,
    feed: Callable[[Event], None],
) -> SigningGate:
    """The node's gate for one incarnation, as `NodeShell` builds it: no record on the disk (a
    first start, or a crash that lost it) and no mark of having been cleared to sign means the
    guard watches before it signs."""
    return SigningGate(
        guard=AmnesiaGuard(
            index=validator,
            size=validators.size,
            watch_heights=SIM_WATCH_HEIGHTS,
            has_record=disk.last_signed is not None or disk.cleared,
            marked=False,
            store_height=len(disk.chain),
            quorum=validators.quorum,
        ),
        consensus=core,
        store=disk,
        chain_id=CHAIN_ID,
        verifier=verifier,
        index=validator,
        metrics=NodeMetrics(),
        watch_heights=SIM_WATCH_HEIGHTS,
        feed=feed,
        logger=_GATE_LOG,
    )
