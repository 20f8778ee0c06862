"""A seed decides the whole run: which validators are Byzantine and how, the fault mix, partitions,
crashes. Everything here is drawn from one `random.Random(seed)`; nothing else is random."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final

from node.consensus import ValidatorSet

HEAL_MIN_MS: Final = 1_000
HEAL_MAX_MS: Final = 6_000
LOSSY_MAX_DELAY_MS: Final = 400
STABLE_MAX_DELAY_MS: Final = 30  # after the heal every message arrives within this (the paper's Δ)
CRASH_MAX_DOWN_MS: Final = 2_000
TORN_CRASH_MAX_ACTIONS: Final = 3


class Behaviour(StrEnum):
    EQUIVOCATE = "equivocate"  # conflicting proposals and votes, one to each half of the peers
    TWINS = "twins"  # two processes with one key (the Twins method)
    NOISE = "noise"  # honest, plus bad signatures, wrong heights/rounds, non-validator senders
    SILENT = "silent"  # never sends anything
    ATTACKER = "attacker"  # runs honestly, plus the scenario's `attacks` for it (a mix of Attack)


CLASSIC: Final = (Behaviour.EQUIVOCATE, Behaviour.TWINS, Behaviour.NOISE, Behaviour.SILENT)
"""The behaviours a seed's main stream draws from (kept as it was, so old seeds stay the same
schedules); whether a Byzantine validator is an attacker instead comes from a stream of its own."""


@dataclass(frozen=True, slots=True)
class Flood:
    """A flooder's signed messages for the next height, to each peer at each height, spread over
    `rounds` rounds."""

    messages: int
    rounds: int


MIX_FLOOD: Final = Flood(messages=64, rounds=2)
"""The flood in seeded schedules: cheap enough for thousands of runs. The full flood (more than
the core's whole next-height buffer, over every round it accepts) is `node.sim.byzantine.FULL_FLOOD`."""


class Attack(StrEnum):
    """What an attacker (issue 19) does besides running the honest node."""

    RELAY = "relay"  # forwards each honest proposal's signature with a junk payload, 1 ms ahead
    LIE = "lie"  # claims height 2^63 in every status; serves an empty stream to a fetch
    FORGE = "forge"  # serves catch-up blocks whose certificates or payloads are forged
    FLOOD = "flood"  # at each height, signed votes and proposals for the next height, beyond any buffer
    AMNESIA = "amnesia"  # restarts with its last-signed record lost


class FaultMix(StrEnum):
    CLEAN = "clean"
    LOSSY = "lossy"
    PARTITION = "partition"
    CRASH = "crash"
    CHAOS = "chaos"


@dataclass(frozen=True, slots=True)
class Partition:
    """Between `start_ms` and `end_ms` messages between different groups are lost."""

    start_ms: int
    end_ms: int
    groups: tuple[frozenset[int], ...]  # instance ids

    def separates(self, now_ms: int, a: int, b: int) -> bool:
        if not self.start_ms <= now_ms < self.end_ms:
            return False
        return not any(a in group and b in group for group in self.groups)


@dataclass(frozen=True, slots=True)
class Crash:
    """`after_actions` None: the node stops between two events. A number k: it stops in the middle
    of carrying out its actions, after k more of them — e.g. after persisting a vote, before
    sending it — which is what persist-before-send is for."""

    instance: int
    at_ms: int
    down_ms: int
    after_actions: int | None = None
    forget: bool = False
    """The last-signed record is lost with the crash (amnesia)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    seed: int
    size: int
    heights: int
    mix: FaultMix
    behaviours: dict[int, Behaviour]  # validator index -> behaviour, for the Byzantine ones
    instances: tuple[int, ...]  # instance id -> validator index (twins appear twice)
    heal_ms: int  # the paper's GST: no loss, duplication or partition after it
    drop_per_mille: int
    duplicate_per_mille: int
    max_delay_ms: int
    partitions: tuple[Partition, ...]
    crashes: tuple[Crash, ...]
    attacks: dict[int, frozenset[Attack]] = field(default_factory=dict)
    """Validator index -> what it does, for those whose behaviour is ATTACKER."""
    flood: Flood = MIX_FLOOD

    @property
    def stable_ms(self) -> int:
        """From here on the network is synchronous and every crashed node is back up."""
        restarts = [crash.at_ms + crash.down_ms for crash in self.crashes]
        return max([self.heal_ms, *restarts])

    def honest(self, instance: int) -> bool:
        return self.instances[instance] not in self.behaviours

    @property
    def beyond_model(self) -> bool:
        """More Byzantine validators than f: the checkers are expected to find violations."""
        return len(self.behaviours) > ValidatorSet(self.size).f


def _split(rng: random.Random, members: list[int]) -> tuple[frozenset[int], frozenset[int]]:
    shuffled = members[:]
    rng.shuffle(shuffled)
    cut = rng.randint(1, len(shuffled) - 1)
    return frozenset(shuffled[:cut]), frozenset(shuffled[cut:])


def _twin_partition(rng: random.Random, instances: tuple[int, ...], heal_ms: int) -> Partition:
    """Twins on opposite sides, everyone else on a random side: the Twins method's attack shape."""
    sides: tuple[set[int], set[int]] = (set(), set())
    seen: dict[int, int] = {}
    for instance, validator in enumerate(instances):
        if validator in seen:
            sides[1 - seen[validator]].add(instance)
        else:
            seen[validator] = rng.randint(0, 1)
            sides[seen[validator]].add(instance)
    return Partition(0, heal_ms, (frozenset(sides[0]), frozenset(sides[1])))


AMNESIA_MAX_AT_MS: Final = 1_000
AMNESIA_MAX_DOWN_MS: Final = 50


def draw_attacks(seed: int, behaviours: dict[int, Behaviour]) -> dict[int, frozenset[Attack]]:
    """From the seed's own attack stream: half the non-twin Byzantine validators become attackers,
    each with a random non-empty mix of attacks."""
    rng = random.Random(f"{seed}/attacks")
    attacks: dict[int, frozenset[Attack]] = {}
    for validator, behaviour in sorted(behaviours.items()):
        if behaviour != Behaviour.TWINS and rng.random() < 0.5:
            mix = frozenset(a for a in Attack if rng.random() < 0.5) or frozenset({rng.choice(list(Attack))})
            attacks[validator] = mix
    return attacks


def amnesia_crashes(seed: int, scenario: Scenario) -> tuple[Crash, ...]:
    """An amnesiac attacker's restarts: one or two, early, quick, each losing the last-signed
    record."""
    rng = random.Random(f"{seed}/amnesia")
    crashes = []
    for instance, validator in enumerate(scenario.instances):
        if Attack.AMNESIA in scenario.attacks.get(validator, ()):
            for _ in range(rng.randint(1, 2)):
                at_ms = rng.randint(1, AMNESIA_MAX_AT_MS)
                crashes.append(Crash(instance, at_ms, rng.randint(1, AMNESIA_MAX_DOWN_MS), None, forget=True))
    return tuple(crashes)


def with_attacks(scenario: Scenario, attacks: dict[int, frozenset[Attack]]) -> Scenario:
    """`scenario` with these validators attackers (and their amnesia restarts scheduled)."""
    behaviours = {**scenario.behaviours, **dict.fromkeys(attacks, Behaviour.ATTACKER)}
    plain = tuple(c for c in scenario.crashes if not c.forget)
    attacked = replace(scenario, behaviours=behaviours, attacks=dict(attacks), crashes=plain)
    return replace(attacked, crashes=plain + amnesia_crashes(scenario.seed, attacked))


def make_scenario(seed: int, size: int, byzantine: int, heights: int, attacks: bool = True) -> Scenario:
    """Up to f Byzantine validators get a random behaviour each (with `attacks`, half of them
    become attackers with a random mix of attacks); beyond f all are twins, so the run is outside
    the model and the checkers must find the damage."""
    validators = ValidatorSet(size)
    if not 0 <= byzantine <= size or heights < 1:
        raise ValueError(f"need 0 <= byzantine <= nodes and heights >= 1, got {byzantine}, {heights}")
    rng = random.Random(seed)
    chosen = rng.sample(range(size), byzantine)
    behaviours = {
        validator: Behaviour.TWINS if byzantine > validators.f else rng.choice(CLASSIC)
        for validator in sorted(chosen)
    }
    instances = tuple(range(size)) + tuple(v for v, b in behaviours.items() if b == Behaviour.TWINS)
    mix = rng.choice(list(FaultMix))
    heal_ms = 0 if mix == FaultMix.CLEAN else rng.randint(HEAL_MIN_MS, HEAL_MAX_MS)
    lossy = mix in (FaultMix.LOSSY, FaultMix.CHAOS)
    partitions: list[Partition] = []
    if any(b == Behaviour.TWINS for b in behaviours.values()) and (
        byzantine > validators.f or rng.random() < 0.5
    ):
        partitions.append(_twin_partition(rng, instances, max(heal_ms, HEAL_MIN_MS)))
        heal_ms = max(heal_ms, HEAL_MIN_MS)
    if mix in (FaultMix.PARTITION, FaultMix.CHAOS):
        start = rng.randint(0, heal_ms // 2)
        partitions.append(
            Partition(start, rng.randint(start + 1, heal_ms), _split(rng, list(range(len(instances)))))
        )
    crashes: list[Crash] = []
    if mix in (FaultMix.CRASH, FaultMix.CHAOS):
        honest = [i for i, v in enumerate(instances) if v not in behaviours]
        for instance in rng.sample(honest, rng.randint(1, max(1, validators.f))):
            at_ms = rng.randint(0, heal_ms)
            torn = rng.randint(0, TORN_CRASH_MAX_ACTIONS) if rng.random() < 0.5 else None
            crashes.append(Crash(instance, at_ms, rng.randint(1, CRASH_MAX_DOWN_MS), torn))
    scenario = Scenario(
        seed=seed,
        size=size,
        heights=heights,
        mix=mix,
        behaviours=behaviours,
        instances=instances,
        heal_ms=heal_ms,
        drop_per_mille=rng.randint(50, 300) if lossy else 0,
        duplicate_per_mille=rng.randint(0, 100) if lossy else 0,
        max_delay_ms=rng.randint(50, LOSSY_MAX_DELAY_MS) if lossy else STABLE_MAX_DELAY_MS,
        partitions=tuple(partitions),
        crashes=tuple(crashes),
    )
    return with_attacks(scenario, draw_attacks(seed, behaviours)) if attacks else scenario
