"""The demo election from start to end: what a commission operator, the trustees, the voters and
an observer each do, on one machine, in one go.

Every process started here is stopped in the end, also on an error or Ctrl-C (SIGINT and SIGTERM
are ignored while stopping, so a second Ctrl-C cannot leave a node behind) — except with `keep`,
which leaves the cluster and the gateway running for the user to try by hand.

The gateway's identity store and the verifier live outside `votestore/` (DESIGN.md layout), so
the CLI hands them in as `DemoTools`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ops.demo import plan
from ops.demo.casting import CastingResult, Milestone, cast_all
from ops.demo.console import DemoConsole
from ops.demo.fingerprints import common_height, fingerprints
from ops.demo.gateway_process import GatewayProcess, write_config
from ops.demo.notices import send_demo_notices
from ops.demo.outcome import (
    ContestOutcome,
    DemoOutcome,
    Event,
    GroupTurnout,
    Phase,
    Verdict,
    outcome_json,
)
from ops.demo.report import render_report
from ops.demo.trustees import Trustee, deal_tx, decryption_share_tx, new_trustees, present
from ops.localnet import LocalNet
from ops.roles import PROVIDER_DIR, ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient
from votestore.encoding import tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.keygen_schedule import wait_before_open_s

DEFAULT_VOTERS: Final = 1000
DEFAULT_NODES: Final = 4
DEFAULT_SEED: Final = 20261122
DEFAULT_IN_FLIGHT: Final = 32
"""Ballots cast at once: enough to keep 2 cores busy while each waits ~2 blocks for its certified
receipt (24: 9.9 ballots/s, median 1.8 s; 64: 16.6 ballots/s, median 3.4 s on 2 shared cores)."""
MIN_VOTERS: Final = 4
MAX_VOTERS: Final = 100_000
ROLL_BATCH_ENTRIES: Final = 500
KILL_AT_FRACTION: Final = 0.4
RESTART_AT_FRACTION: Final = 0.7
CATCH_UP_TIMEOUT_S: Final = 120.0
PRACTICE_ELECTION_ID: Final = "practice"
PRACTICE_VOTERS: Final = 5
PRACTICE_SEED_OFFSET: Final = 1
CREDENTIAL_FILE_MODE: Final = 0o600
REPORT_NAME: Final = "report.html"
OUTCOME_NAME: Final = "outcome.json"


class DemoError(VotestoreError):
    """A step of the demo could not be done; the message says which."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    workdir: Path
    voters: int = DEFAULT_VOTERS
    nodes: int = DEFAULT_NODES
    keep: bool = False
    seed: int = DEFAULT_SEED
    in_flight: int = DEFAULT_IN_FLIGHT

    def __post_init__(self) -> None:
        if not MIN_VOTERS <= self.voters <= MAX_VOTERS:
            raise DemoError(f"--voters must be {MIN_VOTERS}..{MAX_VOTERS}")
        if self.nodes < 4:
            raise DemoError("--nodes must be at least 4 (one may fail: n >= 3f + 1 with f = 1)")


IdentityWriter = Callable[[Path, Sequence[tuple[bytes, str]]], int]
"""gateway.identity.write_identity_store: (store path, [(credential public key, second factor)])."""
Verify = Callable[[Genesis, Sequence[str]], Verdict]
"""Run the verifier once over these node addresses."""


@dataclass(frozen=True, slots=True)
class DemoTools:
    write_identity_store: IdentityWriter
    verify: Verify


@dataclass(frozen=True, slots=True)
class KeptCluster:
    """With `keep`: what still runs, for the instructions printed at the end."""

    workdir: Path
    genesis: Path
    node_addresses: tuple[str, ...]
    gateway: str
    pids: tuple[int, ...]
    practice_credentials: tuple[Path, ...]
    practice_identity_checks: tuple[str, ...]


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


def _commit_in_order(node: NodeClient, txs: Sequence[bytes]) -> None:
    """Each committed before the next is sent: roll batches must arrive in order."""
    for raw in txs:
        node.commit(raw)


def _commit_together(node: NodeClient, txs: Sequence[bytes]) -> None:
    """All submitted, then all waited for: independent transactions share blocks."""
    for raw in txs:
        answer = node.submit(raw)
        if answer.code != election_pb2.OK:
            name = election_pb2.ResultCode.Name(answer.code)
            raise DemoError(f"transaction refused at intake: {name}: {answer.detail}")
    for raw in txs:
        result = node.wait_committed(tx_hash(raw)).result
        if result.code != election_pb2.OK:
            name = election_pb2.ResultCode.Name(result.code)
            raise DemoError(f"transaction rejected in its block: {name}: {result.detail}")


def _roll(
    node: NodeClient, chain: str, roles: ElectionRoles, election_id: str, voters: Sequence[plan.Voter]
) -> None:
    """The credential authority's part: the roll's public keys, signed with its own key (the
    administrator's would be refused). The voters' secrets stand for the personal links it sent."""
    rows = [(credential_public_key(v.credential, election_id), v.group) for v in voters]
    _commit_in_order(
        node, txbuild.roll_batches(chain, roles.authority, election_id, rows, ROLL_BATCH_ENTRIES)
    )


def _set_up_election(
    node: NodeClient,
    net: LocalNet,
    roles: ElectionRoles,
    trustees: Sequence[Trustee],
    definition: election_pb2.ElectionCreate,
    voters: Sequence[plan.Voter],
) -> election_pb2.ElectionState:
    """Create, the credential authority's roll, every trustee deals, open: the administrator's,
    the credential authority's and the trustees' parts."""
    chain, admin, election_id = net.genesis.chain_id, net.admin_key, definition.election_id
    node.commit(txbuild.election_create(chain, admin, roles.name_in(definition)))
    _roll(node, chain, roles, election_id, voters)
    _commit_together(node, [deal_tx(chain, t, definition) for t in trustees])
    time.sleep(wait_before_open_s(definition))
    node.commit_when_due(txbuild.open_election(chain, admin, election_id))
    state = node.election(election_id)
    if state.phase != election_pb2.OPEN or not state.election_key:
        raise DemoError(f"election {election_id} did not open (phase {election_pb2.Phase.Name(state.phase)})")
    return state


def _identity_rows(voters: Sequence[plan.Voter], election_id: str) -> list[tuple[bytes, str]]:
    return [(credential_public_key(v.credential, election_id), v.identity_check) for v in voters]


def _contests(
    state: election_pb2.ElectionState, expected: Sequence[Sequence[int]]
) -> tuple[ContestOutcome, ...]:
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


class _Demo:
    """One run, step by step; every process it starts is registered on `stack` as it starts."""

    def __init__(self, options: DemoOptions, tools: DemoTools, ui: DemoConsole, stack: ExitStack) -> None:
        self.options = options
        self.tools = tools
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
        kept = self._practice(node, net, trustees, gateway) if self.options.keep else None
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
                self.tools.write_identity_store, self.identity_store, _identity_rows(self.voters, election_id)
            )
            self.ui.step(
                f"administrator: election {election_id!r} with 2 contests; credential authority: roll of "
                f"{len(self.voters)} voters in batches of {ROLL_BATCH_ENTRIES}, identity checks for each "
                "handed to the identity provider"
            )
            state = _set_up_election(node, net, self.roles, trustees, definition, self.voters)
            self.ui.note(f"key generation done: dealers {list(state.qualified_dealers)}; election open")
            identities.result()
        return definition

    def _start_gateway(self, net: LocalNet) -> GatewayProcess:
        provider_key = ElectionRoles.provider_key_file(self.workdir)
        config, target = write_config(self.workdir, net.genesis_path, self.identity_store, provider_key)
        gateway = GatewayProcess(self.workdir, config, target)
        with self.clock.phase("start gateway"):
            self.stack.enter_context(gateway)
        self.ui.step(f"gateway on {target}")
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
            node.commit(txbuild.close_election(chain_id, net.admin_key, election_id))
            height = 0
            for trustee in present(trustees, plan.ABSENT_TRUSTEE):
                self.ui.step(
                    f"trustee {trustee.index}: decryption share (trustee {plan.ABSENT_TRUSTEE} absent)"
                )
                state = node.election(election_id)
                tx = decryption_share_tx(chain_id, trustee, state, node.key_material(election_id))
                height = node.commit(tx).header.height
            state = node.election(election_id)
            if state.phase != election_pb2.COUNTED:
                raise DemoError(
                    f"not counted after the shares (phase {election_pb2.Phase.Name(state.phase)})"
                )
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
            verdict = self.tools.verify(net.genesis, net.addresses)
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
            contests=_contests(state, plan.expected_counts(definition, self.voters)),
            groups=tuple(GroupTurnout(t.group, t.roll_size, t.ballots) for t in state.turnout),
            turnout=result.turnout,
            events=tuple(self.events),
            fingerprints=fingerprints(net.genesis, common_height(answered)),
            verdict=verdict,
            phases=tuple(self.clock.phases),
            finished_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )

    def _practice(
        self, node: NodeClient, net: LocalNet, trustees: Sequence[Trustee], gateway: GatewayProcess
    ) -> KeptCluster:
        """An election left open with a few spare credentials on file, to cast into by hand."""
        voters = plan.make_voters(PRACTICE_VOTERS, self.options.seed + PRACTICE_SEED_OFFSET)
        definition = plan.definition(
            [t.public for t in trustees], int(time.time() * 1000), PRACTICE_ELECTION_ID
        )
        self.ui.step(f"--keep: election {PRACTICE_ELECTION_ID!r} left open with {len(voters)} spare voters")
        self.tools.write_identity_store(self.identity_store, _identity_rows(voters, PRACTICE_ELECTION_ID))
        _set_up_election(node, net, self.roles, trustees, definition, voters)
        credentials = []
        for voter in voters:
            path = self.workdir / f"practice-voter-{voter.number}.credential"
            path.touch(mode=CREDENTIAL_FILE_MODE)
            path.write_text(voter.credential.hex() + "\n")
            credentials.append(path)
        assert gateway.process is not None
        return KeptCluster(
            self.workdir,
            net.genesis_path,
            tuple(net.addresses),
            gateway.target,
            (*(p.pid for p in net.processes.values()), gateway.process.pid),
            tuple(credentials),
            tuple(v.identity_check for v in voters),
        )


def run_demo(options: DemoOptions, tools: DemoTools, ui: DemoConsole) -> DemoRun:
    """The whole demo; with `keep` the processes outlive this call, else none does."""
    stack = ExitStack()
    try:
        run = _Demo(options, tools, ui, stack).run()
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
