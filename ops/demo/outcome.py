"""What a demo run found, as plain values: the console, the HTML report and the exit code read it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ops.cluster.election import Verdict
from ops.demo.casting import TurnoutSample
from ops.demo.parties import StepRecord
from proto.votestore.v1 import election_pb2


@dataclass(frozen=True, slots=True)
class ContestOutcome:
    contest_id: str
    title: str
    choices: tuple[str, ...]
    recorded: tuple[int, ...]
    """What the ledger's result says, combined from the present trustees' shares."""
    expected: tuple[int, ...]
    """What the demo's voters chose (known to the demo only: it made the choices)."""


@dataclass(frozen=True, slots=True)
class GroupTurnout:
    group: str
    roll_size: int
    ballots: int


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A node's ledger at one common height: its block hash, and the app hash after that block."""

    node: str
    address: str
    height: int
    block_hash: bytes
    app_hash: bytes


@dataclass(frozen=True, slots=True)
class Event:
    elapsed_s: float
    """Seconds since casting began."""
    text: str


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class DemoOutcome:
    chain_id: str
    election_id: str
    title: str
    roll_size: int
    ballots_counted: int
    ballots_expected: int
    """How many of the demo's voters cast."""
    assisted: int
    without_receipt: int
    """Assisted casts the gateway answered ALREADY_EXISTS for the voter's own ballot (an intake race
    in the validators): no tracking code came back, so only the count can show they landed."""
    trustees_used: tuple[int, ...]
    tally_height: int
    contests: tuple[ContestOutcome, ...]
    groups: tuple[GroupTurnout, ...]
    turnout: tuple[TurnoutSample, ...]
    events: tuple[Event, ...]
    fingerprints: tuple[Fingerprint, ...]
    verdict: Verdict
    phases: tuple[Phase, ...]
    finished_utc: str
    steps: tuple[StepRecord, ...] = ()
    """Each party's steps, each a process of its own (ops/demo/parties.py)."""

    @property
    def result_matches(self) -> bool:
        return self.ballots_counted == self.ballots_expected and all(
            c.recorded == c.expected for c in self.contests
        )

    @property
    def fingerprints_agree(self) -> bool:
        return len({(f.height, f.block_hash, f.app_hash) for f in self.fingerprints}) == 1

    @property
    def ok(self) -> bool:
        """The demo's exit-0 condition: the verifier passed, the count is the voters' choices and
        every node holds the same ledger at the fingerprint height."""
        return self.verdict.passed and self.result_matches and self.fingerprints_agree


def outcome_json(outcome: DemoOutcome) -> str:
    """The outcome for programs (tests, CI): counts, verdict, fingerprints, timings."""
    document = {
        "ok": outcome.ok,
        "finished_utc": outcome.finished_utc,
        "chain_id": outcome.chain_id,
        "election_id": outcome.election_id,
        "roll_size": outcome.roll_size,
        "ballots_counted": outcome.ballots_counted,
        "ballots_expected": outcome.ballots_expected,
        "without_receipt": outcome.without_receipt,
        "trustees_used": list(outcome.trustees_used),
        "tally_height": outcome.tally_height,
        "result": {c.contest_id: list(c.recorded) for c in outcome.contests},
        "expected": {c.contest_id: list(c.expected) for c in outcome.contests},
        "verifier": {
            "passed": outcome.verdict.passed,
            "exit_code": outcome.verdict.exit_code,
            "agreed_height": outcome.verdict.agreed_height,
        },
        "fingerprints": [
            {
                "node": f.node,
                "height": f.height,
                "block_hash": f.block_hash.hex(),
                "app_hash": f.app_hash.hex(),
            }
            for f in outcome.fingerprints
        ],
        "events": [{"elapsed_s": round(e.elapsed_s, 3), "text": e.text} for e in outcome.events],
        "phases_s": {p.name: round(p.seconds, 3) for p in outcome.phases},
        "steps": [
            {
                "party": s.party,
                "what": s.what,
                "pid": s.pid,
                "argv": list(s.argv),
                "directory": s.directory,
                "exit_code": s.exit_code,
                "seconds": round(s.seconds, 3),
            }
            for s in outcome.steps
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def contest_outcomes(
    state: election_pb2.ElectionState, expected: Sequence[Sequence[int]]
) -> tuple[ContestOutcome, ...]:
    """Per contest of the definition: the ledger's recorded counts beside the expected ones."""
    definition = state.definition
    recorded = {c.contest_id: tuple(c.counts) for c in state.result.contests}
    return tuple(
        ContestOutcome(
            contest.id,
            contest.title or contest.id,
            tuple(choice.label or choice.id for choice in contest.choices),
            recorded.get(contest.id, ()),
            tuple(expected[at]),
        )
        for at, contest in enumerate(definition.contests)
    )
