"""One seeded run: build the instances, drive them on a virtual clock, then run the checkers."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Final

from node.clock import Timer
from node.consensus import Proposal, Signer, ValidatorSet, Verifier, Vote
from node.sim.byzantine import Who, junk_copy, parts_for
from node.sim.checkers import (
    Violation,
    check_agreement,
    check_liveness,
    check_no_double_sign,
    check_validity,
)
from node.sim.keys import ed25519_keys, fake_keys
from node.sim.network import FetchReply, FetchRequest, Network
from node.sim.node import SimNode
from node.sim.scenario import Attack, Scenario
from node.sim.world import Message
from node.wire import proposal_from_wire, vote_from_wire
from proto.votestore.v1 import peer_pb2

# Liveness bound after stability: generous next to the ~1 s a height takes once timeouts have grown
# past the message delay, so a miss means a stuck protocol, not a slow schedule.
LIVENESS_BASE_MS: Final = 30_000
LIVENESS_PER_HEIGHT_MS: Final = 3_000
MAX_EVENTS_PER_RUN: Final = 3_000_000


@dataclass(frozen=True, slots=True)
class Deliver:
    src: int
    message: Message


@dataclass(slots=True)
class Call:
    """A timer a node's clock set (`node.clock.Clock.call_later`); it dies with a crash."""

    incarnation: int
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(frozen=True, slots=True)
class Crash:
    after_actions: int | None
    forget: bool


@dataclass(frozen=True, slots=True)
class Restart:
    pass


Item = Deliver | Call | Crash | Restart


@dataclass(frozen=True, slots=True)
class RunResult:
    seed: int
    heights_committed: int  # the lowest honest chain length
    violations: tuple[Violation, ...]
    events: int
    virtual_ms: int
    messages_sent: int
    messages_dropped: int
    core_drops: dict[str, int]
    evidence: int
    amnesia_double_votes: int = 0
    """Double votes by attackers that lost their last-signed record: Byzantine by the model, so
    not a violation, but what a guard against amnesia must bring to 0."""


def liveness_bound_ms(heights: int) -> int:
    return LIVENESS_BASE_MS + heights * LIVENESS_PER_HEIGHT_MS


def describe(message: Message) -> str:
    if isinstance(message, FetchRequest):
        return f"FETCH {message.first}..{message.last}"
    if isinstance(message, FetchReply):
        return f"BLOCKS from {message.first}: {len(message.blocks)}"
    kind = message.WhichOneof("kind")
    if kind == "vote":
        vote = vote_from_wire(message.vote)
        block = "nil" if vote.block_id is None else vote.block_id.hex()[:8]
        return f"{vote.type.name} h={vote.height} r={vote.round} v={vote.validator} {block}"
    if kind == "proposal":
        p = proposal_from_wire(message.proposal)
        return f"PROPOSAL h={p.height} r={p.round} vr={p.valid_round} p={p.proposer} {p.block_id.hex()[:8]}"
    status = message.status
    return f"STATUS h={status.height} r={status.round}{' stuck' if status.stuck else ''}"


class Simulation:
    """Implements the nodes' `Port`: a heap of timed deliveries, timers, ticks, crashes."""

    def __init__(
        self, scenario: Scenario, *, ed25519: bool = False, trace: Callable[[str], None] | None = None
    ) -> None:
        self.scenario = scenario
        self.now_ms = 0
        self._trace = trace
        self._rng = random.Random(f"{scenario.seed}/run")
        self._network = Network(scenario, self._rng)
        self._heap: list[tuple[int, int, int, Item]] = []
        self._seq = 0
        self.signed: list[tuple[int, Proposal | Vote]] = []
        self.core_signed: list[tuple[int, Proposal | Vote]] = []
        """What cores signed (no Byzantine filter's additions): amnesia's double votes."""
        self.validators = ValidatorSet(scenario.size)
        signers: list[Signer]
        self.verifier: Verifier
        if ed25519:
            ed_signers, self.verifier = ed25519_keys(scenario.seed, scenario.size)
            signers = list(ed_signers)
        else:
            fake_signers, self.verifier = fake_keys(scenario.seed, scenario.size)
            signers = list(fake_signers)
        everyone = range(len(scenario.instances))
        self.nodes = []
        for instance, validator in enumerate(scenario.instances):
            parts = parts_for(
                scenario.behaviours.get(validator),
                scenario.attacks.get(validator, ()),
                scenario.flood,
                Who(
                    instance,
                    validator,
                    scenario.size,
                    signers[validator],
                    self._rng,
                    partial(self._record_forged, instance),
                ),
            )
            self.nodes.append(
                SimNode(
                    instance=instance,
                    validator=validator,
                    validators=self.validators,
                    instances=len(scenario.instances),
                    signer=signers[validator],
                    verifier=self.verifier,
                    port=self,
                    outbound=parts.outbound,
                    serve=parts.serve,
                    hello_height=parts.hello_height,
                )
            )
        self.honest = {i for i in everyone if scenario.honest(i)}
        self._relays = [
            i for i, v in enumerate(scenario.instances) if Attack.RELAY in scenario.attacks.get(v, ())
        ]
        self._amnesiac = {
            i: v for i, v in enumerate(scenario.instances) if Attack.AMNESIA in scenario.attacks.get(v, ())
        }

    # -- Port ------------------------------------------------------------------------------------

    def _push(self, at_ms: int, instance: int, item: Item) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at_ms, self._seq, instance, item))

    def send(self, src: int, dst: int, message: Message) -> None:
        delays = self._network.delays(self.now_ms, src, dst)
        for delay in delays:
            self._push(self.now_ms + delay, dst, Deliver(src, message))
        if self._relays and isinstance(message, peer_pb2.PeerMessage) and src in self.honest:
            self._relay(src, dst, message, delays)

    def _relay(self, src: int, dst: int, message: peer_pb2.PeerMessage, delays: list[int]) -> None:
        """A relay sees each honest proposal and gets a junk copy to `dst` 1 ms ahead of it."""
        if message.WhichOneof("kind") != "proposal":
            return
        for relay in self._relays:
            if relay != dst and self.nodes[relay].core is not None:
                for delay in delays:
                    self._push(self.now_ms + delay - 1, dst, Deliver(relay, junk_copy(message)))

    def call_later(
        self, instance: int, incarnation: int, delay_s: float, callback: Callable[[], None]
    ) -> Timer:
        call = Call(incarnation, callback)
        self._push(self.now_ms + round(delay_s * 1000), instance, call)
        return call

    def record_signed(self, instance: int, message: Proposal | Vote) -> None:
        self.signed.append((instance, message))
        self.core_signed.append((instance, message))

    def _record_forged(self, instance: int, message: Proposal | Vote) -> None:
        """What a Byzantine filter signed besides its core's messages."""
        self.signed.append((instance, message))

    # -- the run -----------------------------------------------------------------------------------

    def _boot(self, node: SimNode) -> None:
        """Start a node; its links to the live nodes come up (hello heights, replays)."""
        node.boot()
        for other in self.nodes:
            if other is not node and other.core is not None:
                node.link_up(other)
                other.link_up(node)

    def _done(self) -> bool:
        return all(len(self.nodes[i].disk.chain) >= self.scenario.heights for i in self.honest)

    def _dispatch(self, node: SimNode, item: Item) -> None:
        committed = len(node.disk.chain)
        self._carry(node, item)
        node.flush()
        if self._trace is not None:
            for block in node.disk.chain[committed:]:
                self._trace(
                    f"{self.now_ms:>7}ms #{node.instance} COMMIT h={block.height} {block.block_id.hex()[:8]}"
                )

    def _carry(self, node: SimNode, item: Item) -> None:
        trace = self._trace
        alive = node.core is not None
        if isinstance(item, Deliver):
            if trace is not None and alive:
                trace(f"{self.now_ms:>7}ms #{node.instance} <- #{item.src} {describe(item.message)}")
            node.deliver(item.src, item.message)
        elif isinstance(item, Call):
            if item.incarnation == node.incarnation and alive and not item.cancelled:
                item.callback()
        elif isinstance(item, Crash):
            if not alive:
                return
            if item.after_actions is None:
                if trace is not None:
                    trace(f"{self.now_ms:>7}ms #{node.instance} CRASH{' forgetting' if item.forget else ''}")
                node.crash(item.forget)
            else:
                if trace is not None:
                    trace(
                        f"{self.now_ms:>7}ms #{node.instance} CRASH after {item.after_actions} more actions"
                    )
                node.arm_crash(item.after_actions, item.forget)
        else:
            if alive:
                node.crash()  # an armed crash that found no actions to cut short
            if trace is not None:
                trace(f"{self.now_ms:>7}ms #{node.instance} RESTART at height {len(node.disk.chain) + 1}")
            self._boot(node)

    def run(self) -> RunResult:
        scenario = self.scenario
        for node in self.nodes:
            self._boot(node)
        for crash in scenario.crashes:
            self._push(crash.at_ms, crash.instance, Crash(crash.after_actions, crash.forget))
            self._push(crash.at_ms + crash.down_ms, crash.instance, Restart())
        deadline = scenario.stable_ms + liveness_bound_ms(scenario.heights)
        events = 0
        finished = self._done()
        while self._heap and not finished and events < MAX_EVENTS_PER_RUN:
            at_ms, _, instance, item = heapq.heappop(self._heap)
            if at_ms > deadline:
                break
            self.now_ms = at_ms
            events += 1
            self._dispatch(self.nodes[instance], item)
            finished = self._done()
        return self._result(events, finished)

    def _result(self, events: int, finished: bool) -> RunResult:
        honest_chains = {i: self.nodes[i].disk.chain for i in self.honest}
        violations = [
            *check_agreement(honest_chains),
            *check_validity(honest_chains, self.signed, self.validators, self.verifier),
            *check_no_double_sign(self.signed, {i: self.scenario.instances[i] for i in self.honest}),
            *check_liveness(
                honest_chains, self.scenario.heights, finished, liveness_bound_ms(self.scenario.heights)
            ),
        ]
        drops: Counter[str] = Counter()
        for node in self.nodes:
            drops.update(node.dropped)
            if node.core is not None:
                drops.update(node.core.dropped)
        amnesia = check_no_double_sign(self.core_signed, self._amnesiac)
        return RunResult(
            seed=self.scenario.seed,
            heights_committed=min(len(chain) for chain in honest_chains.values()),
            violations=tuple(violations),
            events=events,
            virtual_ms=self.now_ms,
            messages_sent=self._network.sent,
            messages_dropped=self._network.dropped,
            core_drops=dict(drops),
            evidence=sum(len(node.evidence) for node in self.nodes if node.instance in self.honest),
            amnesia_double_votes=len(amnesia),
        )
