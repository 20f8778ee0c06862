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

from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient
from votestore.demo import plan
from votestore.demo.casting import Milestone, cast_all
from votestore.demo.console import DemoConsole
from votestore.demo.fingerprints import common_height, fingerprints
from votestore.demo.gateway_process import GatewayProcess, write_config
from votestore.demo.outcome import (
    ContestOutcome,
    DemoOutcome,
    Event,
    GroupTurnout,
    Phase,
    Verdict,
    outcome_json,
)
from votestore.demo.report import render_report
from votestore.demo.trustees import Trustee, deal_tx, decryption_share_tx, new_trustees, present
from votestore.encoding import tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.localnet import LocalNet

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


def _commit_in_order(node: NodeClient, txs: Sequence[bytes]) -> int:
    """Each committed before the next is sent (roll batches must arrive in order); last height."""
    height = 0
    for raw in txs:
        height = node.commit(raw).header.height
    return height


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


def _set_up_election(
    node: NodeClient,
    net: LocalNet,
    trustees: Sequence[Trustee],
    definition: election_pb2.ElectionCreate,
    voters: Sequence[plan.Voter],
) -> election_pb2.ElectionState:
    """Create, import the roll, let every trustee deal, open: the administrator's and trustees' part."""
    chain, admin, election_id = net.genesis.chain_id, net.admin_key, definition.election_id
    node.commit(txbuild.election_create(chain, admin, definition))
    rows = [(credential_public_key(v.credential, election_id), v.group) for v in voters]
    _commit_in_order(node, txbuild.roll_batches(chain, admin, election_id, rows, ROLL_BATCH_ENTRIES))
    _commit_together(node, [deal_tx(chain, t, definition) for t in trustees])
    node.commit(txbuild.open_election(chain, admin, election_id))
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
    """One run's state; `run_demo` is its only user."""

    def __init__(self, options: DemoOptions, tools: DemoTools, ui: DemoConsole) -> None:
        self.options = options
        self.tools = tools
        self.ui = ui
        self.clock = _Clock()
        self.events: list[Event] = []

    def run(self, stack: ExitStack) -> DemoRun:
        options, ui, clock = self.options, self.ui, self.clock
        workdir = _fresh_workdir(options.workdir)
        voters = plan.make_voters(options.voters, options.seed)
        casting = plan.casting(voters)
        identity_store = workdir / "identity.store"
        ui.step(f"commission: keys and genesis for {options.nodes} validators in {workdir}")
        net = LocalNet.create(workdir / "net", options.nodes)
        stack.callback(net.close)
        genesis = net.genesis
        with clock.phase("start validators"):
            net.start_all()
            net.wait_ready()
        node = stack.enter_context(NodeClient(net.addresses))
        ui.step(f"trustees: {plan.TRUSTEES} key holders, threshold {plan.THRESHOLD}")
        trustees = new_trustees(plan.TRUSTEES)
        definition = plan.definition([t.public for t in trustees], int(time.time() * 1000))
        election_id = definition.election_id
        with ThreadPoolExecutor(1) as pool, clock.phase("create, roll, key generation, open"):
            # Argon2id hashing of the roll's second factors overlaps the ledger steps.
            identities = pool.submit(
                self.tools.write_identity_store, identity_store, _identity_rows(voters, election_id)
            )
            ui.step(
                f"administrator: election {election_id!r} with 2 contests, roll of {len(voters)} "
                f"voters in batches of {ROLL_BATCH_ENTRIES}, identity checks for each"
            )
            state = _set_up_election(node, net, trustees, definition, voters)
            ui.note(f"key generation done: dealers {list(state.qualified_dealers)}; election open")
            identities.result()
        config, target = write_config(workdir, net.genesis_path, identity_store)
        gateway = GatewayProcess(workdir, config, target)
        with clock.phase("start gateway"):
            stack.enter_context(gateway)
        ui.step(f"gateway on {target}")
        victim = options.nodes - 1
        name = genesis.validators[victim].name
        assisted = sum(v.assisted for v in casting)
        ui.step(
            f"voters: {len(casting)} of {len(voters)} cast ({assisted} assisted, "
            f"{len(casting) - assisted} encrypted by their own client), {options.in_flight} at a time"
        )
        with clock.phase("cast ballots"), ui.casting(len(casting)) as display:
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

            milestones = [
                Milestone(int(len(casting) * KILL_AT_FRACTION), kill),
                Milestone(int(len(casting) * RESTART_AT_FRACTION), restart),
            ]
            result = asyncio.run(
                cast_all(
                    target,
                    genesis,
                    election_id,
                    casting,
                    in_flight=options.in_flight,
                    on_receipt=display.receipt,
                    on_turnout=display.turnout,
                    milestones=milestones,
                )
            )
        rate = len(casting) / result.seconds
        latencies = sorted(r.latency_s for r in result.records if r.receipted)
        receipted = len(latencies)
        median = f"{latencies[receipted // 2]:.2f} s" if latencies else "-"
        ui.note(
            f"{len(casting)} ballots cast in {result.seconds:.1f} s ({rate:.1f} ballots/s); {receipted} "
            f"receipts checked against genesis; cast-to-receipt median {median}"
        )
        if receipted < len(casting):
            ui.note(
                f"{len(casting) - receipted} assisted casts came back ALREADY_EXISTS for the voter's own "
                "ballot (a validator intake race): no receipt; the count below shows they landed"
            )
        with clock.phase("close and decrypt"):
            ui.step("administrator: close")
            node.commit(txbuild.close_election(genesis.chain_id, net.admin_key, election_id))
            counted = self._decrypt(node, genesis.chain_id, trustees, election_id)
        with clock.phase("validators agree"):
            net.wait_ready([victim], CATCH_UP_TIMEOUT_S)
            net.wait_height(counted + 2, timeout_s=CATCH_UP_TIMEOUT_S)
        state = node.election(election_id)
        expected = plan.expected_counts(definition, voters)
        ui.step("observer: verifier over every node")
        with clock.phase("verifier"):
            verdict = self.tools.verify(genesis, net.addresses)
        statuses = [net.status(i) for i in range(options.nodes)]
        if any(s is None for s in statuses):
            raise DemoError("a validator stopped answering before its fingerprint was read")
        at = common_height([s for s in statuses if s is not None])
        outcome = DemoOutcome(
            chain_id=genesis.chain_id,
            election_id=election_id,
            title=definition.title,
            roll_size=state.roll_size,
            ballots_counted=state.result.ballots_counted,
            ballots_expected=len(casting),
            assisted=assisted,
            without_receipt=sum(not r.receipted for r in result.records),
            trustees_used=tuple(state.result.trustees),
            tally_height=state.tally_height,
            contests=_contests(state, expected),
            groups=tuple(GroupTurnout(t.group, t.roll_size, t.ballots) for t in state.turnout),
            turnout=result.turnout,
            events=tuple(self.events),
            fingerprints=fingerprints(genesis, at),
            verdict=verdict,
            phases=tuple(clock.phases),
            finished_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
        report = workdir / REPORT_NAME
        report.write_text(render_report(outcome), encoding="utf-8")
        (workdir / OUTCOME_NAME).write_text(outcome_json(outcome), encoding="utf-8")
        kept = self._practice(node, net, trustees, identity_store, gateway) if options.keep else None
        return DemoRun(outcome, report, kept)

    def _decrypt(self, node: NodeClient, chain_id: str, trustees: Sequence[Trustee], election_id: str) -> int:
        """The present trustees each read the ledger's deals and aggregate and publish a share;
        returns the height at which the election was counted."""
        height = 0
        for trustee in present(trustees, plan.ABSENT_TRUSTEE):
            self.ui.step(f"trustee {trustee.index}: decryption share (trustee {plan.ABSENT_TRUSTEE} absent)")
            state = node.election(election_id)
            if state.phase == election_pb2.COUNTED:
                break
            tx = decryption_share_tx(chain_id, trustee, state, node.key_material(election_id))
            height = node.commit(tx).header.height
        state = node.election(election_id)
        if state.phase != election_pb2.COUNTED:
            raise DemoError(f"not counted after the shares (phase {election_pb2.Phase.Name(state.phase)})")
        return height

    def _practice(
        self,
        node: NodeClient,
        net: LocalNet,
        trustees: Sequence[Trustee],
        identity_store: Path,
        gateway: GatewayProcess,
    ) -> KeptCluster:
        """An election left open with a few spare credentials on file, to cast into by hand."""
        workdir = self.options.workdir
        voters = plan.make_voters(PRACTICE_VOTERS, self.options.seed + PRACTICE_SEED_OFFSET)
        definition = plan.definition(
            [t.public for t in trustees], int(time.time() * 1000), PRACTICE_ELECTION_ID
        )
        self.ui.step(f"--keep: election {PRACTICE_ELECTION_ID!r} left open with {len(voters)} spare voters")
        self.tools.write_identity_store(identity_store, _identity_rows(voters, PRACTICE_ELECTION_ID))
        _set_up_election(node, net, trustees, definition, voters)
        credentials = []
        for voter in voters:
            path = workdir / f"practice-voter-{voter.number}.credential"
            path.write_text(voter.credential.hex() + "\n")
            path.chmod(0o600)
            credentials.append(path)
        assert gateway.process is not None
        pids = (*(p.pid for p in net.processes.values()), gateway.process.pid)
        return KeptCluster(
            workdir,
            net.genesis_path,
            tuple(net.addresses),
            gateway.target,
            pids,
            tuple(credentials),
            tuple(v.identity_check for v in voters),
        )


def run_demo(options: DemoOptions, tools: DemoTools, ui: DemoConsole) -> DemoRun:
    """The whole demo; with `keep` the processes outlive this call, else none does."""
    stack = ExitStack()
    try:
        run = _Demo(options, tools, ui).run(stack)
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
