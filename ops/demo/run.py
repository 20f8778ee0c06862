"""The demo election from start to end: what a commission operator, the trustees, the voters and
an observer each do, on one machine, in one go.

Every process started here is stopped in the end, also on an error or Ctrl-C (SIGINT and SIGTERM
are ignored while stopping, so a second Ctrl-C cannot leave a node behind) — except with `keep`,
which leaves the cluster and the gateway running for the user to try by hand.

The cluster, the gateway and the election steps are ops.cluster's, shared with the chaos harness
and the benchmarks; this module says what the demo does with them and in which order.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ops.cluster import LocalNet, election
from ops.demo import parties, plan
from ops.demo.casting import CastingResult, Milestone, cast_all
from ops.demo.console import DemoConsole
from ops.demo.fingerprints import common_height, fingerprints
from ops.demo.notices import send_demo_notices
from ops.demo.options import DemoError, DemoOptions
from ops.demo.outcome import (
    DemoOutcome,
    Event,
    GroupTurnout,
    Phase,
    contest_outcomes,
    outcome_json,
)
from ops.demo.parties import Parties, PartyKeys, StepRecord
from ops.demo.practice import (
    PRACTICE_ELECTION_ID,
    PRACTICE_VOTERS,
    KeptCluster,
    leave_practice_election,
)
from ops.demo.report import render_report
from ops.demo.services import PAGE_DIR, start_services
from ops.web.bundle import MANIFEST_FILE, read_built_page
from proto.votestore.v1 import election_pb2
from votestore.client.node import NodeClient

ROLL_BATCH_ENTRIES: Final = 500
KILL_AT_FRACTION: Final = 0.4
RESTART_AT_FRACTION: Final = 0.7
CATCH_UP_TIMEOUT_S: Final = 120.0
REPORT_NAME: Final = "report.html"
OUTCOME_NAME: Final = "outcome.json"


@dataclass(frozen=True, slots=True)
class DemoRun:
    outcome: DemoOutcome
    report: Path
    kept: KeptCluster | None


@dataclass
class _Clock:
    phases: list[Phase] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.phases.append(Phase(name, time.monotonic() - started))


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """While stopping processes: a second Ctrl-C must not cut the teardown short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _fresh_workdir(path: Path) -> Path:
    if path.exists() and any(path.iterdir()):
        raise DemoError(f"workdir {path} is not empty; give a new or empty directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Demo:
    """One run, step by step; every process it starts is registered on `stack` as it starts."""

    def __init__(self, options: DemoOptions, ui: DemoConsole, stack: ExitStack) -> None:
        self.options = options
        self.ui = ui
        self.stack = stack
        self.clock = _Clock()
        self.events: list[Event] = []
        self.workdir = _fresh_workdir(options.workdir)
        self.voters = plan.make_voters(options.voters, options.seed)
        self.casting = plan.casting(self.voters)

    def run(self) -> DemoRun:
        roles = Parties(self.workdir, self._announce)
        if (PAGE_DIR / MANIFEST_FILE).is_file():  # the page the demo serves: named in its definitions
            roles.app_bundle_sha256 = bytes.fromhex(read_built_page(PAGE_DIR).app_bundle_sha256)
        with self.clock.phase("parties make their keys"):
            self.ui.step(
                f"administrator, credential authority, identity provider and {plan.TRUSTEES} trustees "
                f"(threshold {plan.THRESHOLD}): each makes its key in its own directory, its own process"
            )
            keys = parties.make_keys(roles)
        net = self._start_validators(bytes.fromhex(keys.admin))
        roles.nodes = net.addresses
        node = self.stack.enter_context(NodeClient(net.addresses))
        self._set_up(roles, keys)
        services = start_services(net, roles, self.workdir, self.stack, self.clock.phase, self.ui)
        provider, gateway = services.provider, services.gateway
        result = self._cast(net, gateway.target, provider.target)
        outbox = parties.outbox_of(roles, plan.ELECTION_ID)
        send_demo_notices(self.workdir, node, plan.ELECTION_ID, outbox, self.voters, self.ui)
        self._close_and_count(net, roles)
        outcome = self._observe(node, net, result, roles.records)
        report = self.workdir / REPORT_NAME
        report.write_text(render_report(outcome), encoding="utf-8")
        (self.workdir / OUTCOME_NAME).write_text(outcome_json(outcome), encoding="utf-8")
        kept = None
        if self.options.keep:
            self.ui.step(
                f"--keep: election {PRACTICE_ELECTION_ID!r} left open with {PRACTICE_VOTERS} spare voters"
            )
            kept = leave_practice_election(
                net,
                roles,
                keys,
                gateway,
                provider,
                self.options.seed,
                ROLL_BATCH_ENTRIES,
                services.web.app_origin if services.web is not None else None,
                services.page.process.pid
                if services.page is not None and services.page.process is not None
                else None,
            )
        return DemoRun(outcome, report, kept)

    def _announce(self, step: StepRecord) -> None:
        self.ui.note(f"{step.party}: {step.what} done (pid {step.pid}, in {Path(step.directory).name}/)")

    def _start_validators(self, admin: bytes) -> LocalNet:
        self.ui.step(
            f"commission: keys and genesis for {self.options.nodes} validators in {self.workdir / 'net'}, "
            "naming the administrator's key"
        )
        net = LocalNet.create(self.workdir / "net", self.options.nodes, admin_public=admin)
        self.stack.callback(net.close)
        with self.clock.phase("start validators"):
            net.start_all()
            net.wait_ready()
        return net

    def _set_up(self, roles: Parties, keys: PartyKeys) -> None:
        """Every party's steps before the first ballot, each party a process of its own."""
        election_id = plan.ELECTION_ID
        with self.clock.phase("create, roll, key generation, open"):
            self.ui.step(
                f"administrator: election {election_id!r} with 2 contests, naming the trustees and the "
                f"two roles; credential authority: roll of {len(self.voters)} voters in batches of "
                f"{ROLL_BATCH_ENTRIES} while the trustees deal; then open"
            )
            voters = parties.set_up(roles, keys, election_id, self.voters, ROLL_BATCH_ENTRIES)
            by_number = {v.number: v for v in voters}
            self.voters = tuple(by_number[v.number] for v in self.voters)
            self.casting = plan.casting(self.voters)

    def _cast(self, net: LocalNet, target: str, provider: str) -> CastingResult:
        """Every casting voter through the gateway; the last validator killed part-way, restarted."""
        casting, ui = self.casting, self.ui
        victim = self.options.nodes - 1
        name = net.genesis.validators[victim].name
        assisted = sum(v.assisted for v in casting)
        ui.step(
            f"voters: {len(casting)} of {len(self.voters)} cast ({assisted} assisted, "
            f"{len(casting) - assisted} encrypted by their own client), {self.options.in_flight} at a time"
        )
        with self.clock.phase("cast ballots"), ui.casting(len(casting)) as display:
            started = time.monotonic()

            def event(text: str) -> None:
                self.events.append(Event(time.monotonic() - started, text))
                display.event(text)

            def kill() -> None:
                net.kill(victim)
                event(f"{name} killed (kill -9)")

            def restart() -> None:
                net.start(victim)
                event(f"{name} restarted")

            result = asyncio.run(
                cast_all(
                    target,
                    net.genesis,
                    plan.ELECTION_ID,
                    casting,
                    identity_target=provider,
                    in_flight=self.options.in_flight,
                    on_receipt=display.receipt,
                    on_turnout=display.turnout,
                    milestones=[
                        Milestone(int(len(casting) * KILL_AT_FRACTION), kill),
                        Milestone(int(len(casting) * RESTART_AT_FRACTION), restart),
                    ],
                )
            )
        latencies = sorted(r.latency_s for r in result.records if r.receipted)
        median = f"{latencies[len(latencies) // 2]:.2f} s" if latencies else "-"
        ui.note(
            f"{len(casting)} ballots cast in {result.seconds:.1f} s ({len(casting) / result.seconds:.1f} "
            f"ballots/s); {len(latencies)} receipts checked against genesis; cast-to-receipt median {median}"
        )
        if len(latencies) < len(casting):
            ui.note(
                f"{len(casting) - len(latencies)} assisted casts came back ALREADY_EXISTS for the voter's "
                "own ballot (a validator intake race): no receipt; the count below shows they landed"
            )
        with self.clock.phase("restarted validator answers"):
            net.wait_ready([victim], CATCH_UP_TIMEOUT_S)
        return result

    def _close_and_count(self, net: LocalNet, roles: Parties) -> None:
        """Close; the present trustees each read the ledger's deals and aggregate and publish a
        share; then every validator, the restarted one too, must hold the counted state."""
        with self.clock.phase("close and decrypt"):
            present = plan.present_trustees()
            self.ui.step(
                f"administrator: close; trustees {present}: decryption shares "
                f"(trustee {plan.ABSENT_TRUSTEE} absent)"
            )
            parties.close_and_decrypt(roles, plan.ELECTION_ID, present)
        with self.clock.phase("validators agree"):
            # + 1 certifies the counting block's results; + 2 gives the fingerprint a successor.
            heights = [s.height for s in (net.status(i) for i in range(self.options.nodes)) if s is not None]
            net.wait_height(max(heights) + 2, timeout_s=CATCH_UP_TIMEOUT_S)

    def _observe(
        self, node: NodeClient, net: LocalNet, result: CastingResult, steps: Sequence[StepRecord]
    ) -> DemoOutcome:
        """The observer's part: the verifier over every node, and the fingerprints."""
        self.ui.step("observer: verifier over every node")
        with self.clock.phase("verifier"):
            verdict = election.verify(net.genesis, net.addresses)
        statuses = [net.status(i) for i in range(self.options.nodes)]
        answered = [s for s in statuses if s is not None]
        if len(answered) != len(statuses):
            raise DemoError("a validator stopped answering before its fingerprint was read")
        state = node.election(plan.ELECTION_ID)
        if state.phase != election_pb2.COUNTED:
            raise DemoError(f"election {plan.ELECTION_ID} is not counted after the shares")
        definition = state.definition
        return DemoOutcome(
            chain_id=net.genesis.chain_id,
            election_id=definition.election_id,
            title=definition.title,
            roll_size=state.roll_size,
            ballots_counted=state.result.ballots_counted,
            ballots_expected=len(self.casting),
            assisted=sum(v.assisted for v in self.casting),
            without_receipt=sum(not r.receipted for r in result.records),
            trustees_used=tuple(state.result.trustees),
            tally_height=state.tally_height,
            contests=contest_outcomes(state, plan.expected_counts(definition, self.voters)),
            groups=tuple(GroupTurnout(t.group, t.roll_size, t.ballots) for t in state.turnout),
            turnout=result.turnout,
            events=tuple(self.events),
            fingerprints=fingerprints(net.genesis, common_height(answered)),
            verdict=verdict,
            phases=tuple(self.clock.phases),
            finished_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            steps=tuple(steps),
        )


def run_demo(options: DemoOptions, ui: DemoConsole) -> DemoRun:
    """The whole demo; with `keep` the processes outlive this call, else none does."""
    stack = ExitStack()
    try:
        run = _Demo(options, ui, stack).run()
    except BaseException:
        with _signals_ignored():
            stack.close()
        raise
    if run.kept is not None:
        stack.pop_all()
        return run
    with _signals_ignored():
        stack.close()
    return run
