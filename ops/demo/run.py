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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gateway.identity import write_identity_store
from ops.cluster import LocalNet, election
from ops.cluster.gateway import GatewayProcess, WebPorts, write_config
from ops.cluster.trustees import Trustee, new_trustees, present
from ops.demo import plan
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
from ops.demo.practice import (
    PRACTICE_ELECTION_ID,
    PRACTICE_VOTERS,
    KeptCluster,
    leave_practice_election,
    set_up_election,
)
from ops.demo.report import render_report
from ops.roles import PROVIDER_DIR, ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore.client.node import NodeClient

ROLL_BATCH_ENTRIES: Final = 500
KILL_AT_FRACTION: Final = 0.4
RESTART_AT_FRACTION: Final = 0.7
CATCH_UP_TIMEOUT_S: Final = 120.0
REPORT_NAME: Final = "report.html"
PAGE_DIR: Final = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The built voter page (`npm run build:page` in web/, which `make demo` runs)."""
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
        self.roles = ElectionRoles.create(self.workdir)
        # Written by the credential authority, handed to the identity provider (no secret in it).
        self.identity_store = self.workdir / PROVIDER_DIR / "identity.store"
        self.voters = plan.make_voters(options.voters, options.seed)
        self.casting = plan.casting(self.voters)
        self.web: WebPorts | None = None

    def run(self) -> DemoRun:
        net = self._start_validators()
        node = self.stack.enter_context(NodeClient(net.addresses))
        trustees = new_trustees(plan.TRUSTEES)
        definition = self._set_up(node, net, trustees)
        gateway = self._start_gateway(net)
        result = self._cast(net, gateway.target, definition.election_id)
        send_demo_notices(self.workdir, node, definition.election_id, self.voters, self.ui)
        self._close_and_count(node, net, trustees, definition.election_id)
        outcome = self._observe(node, net, definition, result)
        report = self.workdir / REPORT_NAME
        report.write_text(render_report(outcome), encoding="utf-8")
        (self.workdir / OUTCOME_NAME).write_text(outcome_json(outcome), encoding="utf-8")
        kept = None
        if self.options.keep:
            self.ui.step(
                f"--keep: election {PRACTICE_ELECTION_ID!r} left open with {PRACTICE_VOTERS} spare voters"
            )
            kept = leave_practice_election(
                node,
                net,
                self.roles,
                trustees,
                gateway,
                self.identity_store,
                self.options.seed,
                ROLL_BATCH_ENTRIES,
                self.web.app_origin if self.web is not None else None,
            )
        return DemoRun(outcome, report, kept)

    def _start_validators(self) -> LocalNet:
        self.ui.step(f"commission: keys and genesis for {self.options.nodes} validators in {self.workdir}")
        net = LocalNet.create(self.workdir / "net", self.options.nodes)
        self.stack.callback(net.close)
        with self.clock.phase("start validators"):
            net.start_all()
            net.wait_ready()
        return net

    def _set_up(
        self, node: NodeClient, net: LocalNet, trustees: Sequence[Trustee]
    ) -> election_pb2.ElectionCreate:
        self.ui.step(f"trustees: {plan.TRUSTEES} key holders, threshold {plan.THRESHOLD}")
        definition = plan.definition([t.public for t in trustees], int(time.time() * 1000))
        election_id = definition.election_id
        with ThreadPoolExecutor(1) as pool, self.clock.phase("create, roll, key generation, open"):
            # Argon2id hashing of the roll's second factors overlaps the ledger steps.
            identities = pool.submit(
                write_identity_store, self.identity_store, plan.identity_rows(self.voters, election_id)
            )
            self.ui.step(
                f"administrator: election {election_id!r} with 2 contests; credential authority: roll of "
                f"{len(self.voters)} voters in batches of {ROLL_BATCH_ENTRIES}, identity checks for each "
                "handed to the identity provider"
            )
            state = set_up_election(
                node, net, self.roles, trustees, definition, self.voters, ROLL_BATCH_ENTRIES
            )
            self.ui.note(f"key generation done: dealers {list(state.qualified_dealers)}; election open")
            identities.result()
        return definition

    def _start_gateway(self, net: LocalNet) -> GatewayProcess:
        provider_key = ElectionRoles.provider_key_file(self.workdir)
        self.web = WebPorts(PAGE_DIR) if (PAGE_DIR / "index.html").is_file() else None
        config, target = write_config(
            self.workdir, net.genesis_path, self.identity_store, provider_key, web=self.web
        )
        gateway = GatewayProcess(self.workdir, config, target)
        with self.clock.phase("start gateway"):
            self.stack.enter_context(gateway)
        self.ui.step(f"gateway on {target}")
        if self.web is not None:
            self.ui.note(f"voter page on {self.web.app_origin}/ (gRPC-Web bridge {self.web.bridge_url})")
        else:
            self.ui.note(f"voter page not served: {PAGE_DIR} is not built (`make demo` builds it)")
        return gateway

    def _cast(self, net: LocalNet, target: str, election_id: str) -> CastingResult:
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
                    election_id,
                    casting,
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

    def _close_and_count(
        self, node: NodeClient, net: LocalNet, trustees: Sequence[Trustee], election_id: str
    ) -> None:
        """Close; the present trustees each read the ledger's deals and aggregate and publish a
        share; then every validator, the restarted one too, must hold the counted state."""
        chain_id = net.genesis.chain_id
        with self.clock.phase("close and decrypt"):
            self.ui.step("administrator: close")
            election.close(node, chain_id, net.admin_key, election_id)

            def announce(trustee: Trustee) -> None:
                self.ui.step(
                    f"trustee {trustee.index}: decryption share (trustee {plan.ABSENT_TRUSTEE} absent)"
                )

            present_trustees = present(trustees, plan.ABSENT_TRUSTEE)
            _, height = election.tally(node, chain_id, present_trustees, election_id, announce)
        with self.clock.phase("validators agree"):
            # height + 1 certifies the counting block's results; + 2 gives the fingerprint a successor.
            net.wait_height(height + 2, timeout_s=CATCH_UP_TIMEOUT_S)

    def _observe(
        self,
        node: NodeClient,
        net: LocalNet,
        definition: election_pb2.ElectionCreate,
        result: CastingResult,
    ) -> DemoOutcome:
        """The observer's part: the verifier over every node, and the fingerprints."""
        self.ui.step("observer: verifier over every node")
        with self.clock.phase("verifier"):
            verdict = election.verify(net.genesis, net.addresses)
        statuses = [net.status(i) for i in range(self.options.nodes)]
        answered = [s for s in statuses if s is not None]
        if len(answered) != len(statuses):
            raise DemoError("a validator stopped answering before its fingerprint was read")
        state = node.election(definition.election_id)
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
