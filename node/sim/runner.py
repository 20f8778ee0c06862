"""One seeded run: build the instances, drive them on a virtual clock, then run the checkers."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from node.consensus import Proposal, Signer, Timeout, ValidatorSet, Verifier, Vote
from node.sim.byzantine import outbound_for
from node.sim.checkers import (
    Violation,
    check_agreement,
    check_liveness,
    check_no_double_sign,
    check_validity,
)
from node.sim.keys import ed25519_keys, fake_keys
from node.sim.network import Network, Status
from node.sim.node import STATUS_INTERVAL_MS, Message, SimNode
from node.sim.scenario import Behaviour, Scenario

# Liveness bound after stability: generous next to the ~1 s a height takes once timeouts have grown
# past the message delay, so a miss means a stuck protocol, not a slow schedule.
LIVENESS_BASE_MS: Final = 30_000
LIVENESS_PER_HEIGHT_MS: Final = 3_000
MAX_EVENTS_PER_RUN: Final = 3_000_000


@dataclass(frozen=True, slots=True)
class Deliver:
    src: int
    message: Message


@dataclass(frozen=True, slots=True)
class Fire:
    incarnation: int
    timeout: Timeout


@dataclass(frozen=True, slots=True)
class Tick:
    incarnation: int


@dataclass(frozen=True, slots=True)
class Crash:
    after_actions: int | None


@dataclass(frozen=True, slots=True)
class Restart:
    pass


Item = Deliver | Fire | Tick | Crash | Restart


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


def liveness_bound_ms(heights: int) -> int:
    return LIVENESS_BASE_MS + heights * LIVENESS_PER_HEIGHT_MS


def describe(message: Message) -> str:
    if isinstance(message, Vote):
        block = "nil" if message.block_id is None else message.block_id.hex()[:8]
        return f"{message.type.name} h={message.height} r={message.round} v={message.validator} {block}"
    if isinstance(message, Proposal):
        return (
            f"PROPOSAL h={message.height} r={message.round} vr={message.valid_round} "
            f"p={message.proposer} {message.block_id.hex()[:8]}"
        )
    if isinstance(message, Status):
        return f"STATUS h={message.height} r={message.round}"
    return f"SYNC h={message.certificate.height} {message.certificate.block_id.hex()[:8]}"


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
        self.nodes = [
            SimNode(
                instance=instance,
                validator=validator,
                validators=self.validators,
                peers=[peer for peer in everyone if peer != instance],
                signer=signers[validator],
                verifier=self.verifier,
                port=self,
                outbound=outbound_for(
                    scenario.behaviours.get(validator), instance, scenario.size, signers[validator], self._rng
                ),
                answers_status=scenario.behaviours.get(validator) != Behaviour.SILENT,
            )
            for instance, validator in enumerate(scenario.instances)
        ]
        self.honest = {i for i in everyone if scenario.honest(i)}

    # -- Port ------------------------------------------------------------------------------------

    def _push(self, at_ms: int, instance: int, item: Item) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at_ms, self._seq, instance, item))

    def send(self, src: int, dst: int, message: Message) -> None:
        for delay in self._network.delays(self.now_ms, src, dst):
            self._push(self.now_ms + delay, dst, Deliver(src, message))

    def set_timer(self, instance: int, delay_ms: int, event: Timeout) -> None:
        self._push(self.now_ms + delay_ms, instance, Fire(self.nodes[instance].incarnation, event))

    def record_signed(self, instance: int, message: Proposal | Vote) -> None:
        self.signed.append((instance, message))

    # -- the run -----------------------------------------------------------------------------------

    def _boot(self, node: SimNode) -> None:
        node.boot()
        self._push(self.now_ms + STATUS_INTERVAL_MS, node.instance, Tick(node.incarnation))

    def _done(self) -> bool:
        return all(len(self.nodes[i].disk.chain) >= self.scenario.heights for i in self.honest)

    def _dispatch(self, node: SimNode, item: Item) -> None:
        committed = len(node.disk.chain)
        self._carry(node, item)
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
        elif isinstance(item, Fire):
            if item.incarnation == node.incarnation and alive:
                if trace is not None:
                    trace(
                        f"{self.now_ms:>7}ms #{node.instance} timeout "
                        f"{item.timeout.kind.name} r={item.timeout.round}"
                    )
                node.run(item.timeout)
        elif isinstance(item, Tick):
            if item.incarnation == node.incarnation and alive:
                node.tick()
                self._push(self.now_ms + STATUS_INTERVAL_MS, node.instance, Tick(node.incarnation))
        elif isinstance(item, Crash):
            if not alive:
                return
            if item.after_actions is None:
                if trace is not None:
                    trace(f"{self.now_ms:>7}ms #{node.instance} CRASH")
                node.crash()
            else:
                if trace is not None:
                    trace(
                        f"{self.now_ms:>7}ms #{node.instance} CRASH after {item.after_actions} more actions"
                    )
                node.arm_crash(item.after_actions)
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
            self._push(crash.at_ms, crash.instance, Crash(crash.after_actions))
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
            if node.core is not None:
                drops.update(node.core.dropped)
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
        )
