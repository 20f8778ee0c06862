"""One chaos run, start to finish: cluster on a fabric, election, load, seeded faults one at a time,
then the checks. Shared by tests/chaos and bench/chaos.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ops.chaos import checks
from ops.chaos.cluster import ChaosNet
from ops.chaos.election import LiveElection, close_and_count, expected_counts, open_election
from ops.chaos.fabric import HOST, Fabric, links_between
from ops.chaos.load import Attempt, BallotLoad
from ops.chaos.monitor import (
    HeightReader,
    Monitor,
    Sample,
    heights,
    longest_stall,
    resume_after,
    top_height,
)
from ops.chaos.netns import NamespaceFabric, namespaces_possible
from ops.chaos.proxy import ProxyFabric
from ops.chaos.schedule import Fault, Kind, Scheduler, Timing
from ops.cluster import ClusterError
from votestore.client.node import NodeClient
from votestore.errors import VotestoreError

RESUME_BOUND_S: Final = 30.0
"""After a fault heals, some node's height must rise within this."""
CATCH_UP_BOUND_S: Final = 120.0
"""After a fault heals, every node must commit past the height the cluster had then within this."""
SETTLE_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class ChaosConfig:
    seed: int
    duration_s: float
    workdir: Path
    timing: Timing
    rate_per_s: float = 4.0
    concurrency: int = 16
    voters: int = 5000
    kinds: frozenset[Kind] = frozenset(Kind)
    namespaces: bool = True
    """Try network namespaces first; the loopback proxy is the fallback either way."""

    def __post_init__(self) -> None:
        assert self.duration_s > 0 and self.voters > 0, self


@dataclass(frozen=True, slots=True)
class FaultRecord:
    fault: Fault
    applied_at_s: float
    healed_at_s: float
    resume_s: float | None
    caught_up_s: float | None


@dataclass
class ChaosReport:
    config: ChaosConfig
    mode: str = ""
    fallback_reason: str = ""
    faults: list[FaultRecord] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    committed_ok: int = 0
    absent: int = 0
    counted: list[int] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    longest_stall_s: float = 0.0
    longest_stall_at_s: float = 0.0
    height: int = 0
    verifier_exit: int | None = None
    verifier_tail: str = ""
    peak_rss_bytes: dict[int, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def receipts(self) -> int:
        return sum(1 for a in self.attempts if a.receipt is not None)

    @property
    def lost(self) -> int:
        return sum(1 for f in self.findings if f.startswith("LOST"))

    @property
    def longest_resume_s(self) -> float:
        return max((r.resume_s or 0.0 for r in self.faults), default=0.0)

    def replay(self) -> str:
        c = self.config
        kinds = ",".join(sorted(k.value for k in c.kinds))
        return (
            f".venv/bin/python bench/chaos.py --seed {c.seed} --duration {c.duration_s:.0f} --kinds {kinds}"
        )

    def lines(self) -> list[str]:
        c = self.config
        kinds = Counter(r.fault.kind.value for r in self.faults)
        outcomes = Counter(a.outcome for a in self.attempts)
        rss = ", ".join(f"node{i}={b / 2**20:.0f}MiB" for i, b in sorted(self.peak_rss_bytes.items()))
        out = [
            f"chaos seed={c.seed} duration={c.duration_s:.0f}s mode={self.mode}"
            + (f" (fallback: {self.fallback_reason})" if self.fallback_reason else ""),
            f"faults={len(self.faults)} " + " ".join(f"{k}={n}" for k, n in sorted(kinds.items())),
            f"ballots attempted={len(self.attempts)} receipts={self.receipts} lost={self.lost} "
            f"committed_ok_everywhere={self.committed_ok} absent={self.absent} "
            + " ".join(f"{k}={n}" for k, n in sorted(outcomes.items())),
            f"longest stall={self.longest_stall_s:.1f}s at t={self.longest_stall_at_s:.1f}s (any cause) "
            f"longest resume after heal={self.longest_resume_s:.1f}s height={self.height}",
            f"count={self.counted} expected={self.expected} verifier exit={self.verifier_exit}",
            f"peak rss: {rss}",
        ]
        for r in self.faults:
            resume = "never" if r.resume_s is None else f"{r.resume_s:.1f}s"
            caught = "never" if r.caught_up_s is None else f"{r.caught_up_s:.1f}s"
            out.append(
                f"  t={r.applied_at_s:6.1f}s {r.fault.describe()} resume={resume} all committed={caught}"
            )
        out += [f"FINDING {f}" for f in self.findings]
        out.append("PASS" if self.ok else f"FAIL — replay: {self.replay()}")
        return out


def choose_fabric(namespaces: bool) -> tuple[Callable[[list[int], list[int]], Fabric], str]:
    """Namespaces where they can be made (and are wanted), else the loopback proxy and why."""
    why = namespaces_possible() if namespaces else "namespaces not asked for"
    if why is None:
        return (lambda ports, _: NamespaceFabric.create(len(ports))), ""
    return ProxyFabric.create, why


class _Faults:
    """Applies and heals one fault on the cluster."""

    def __init__(self, net: ChaosNet) -> None:
        assert net.fabric is not None
        self.net = net
        self.fabric = net.fabric
        self.nodes = frozenset(range(net.genesis.n))

    def _links(self, fault: Fault) -> list[tuple[int, int]]:
        if fault.kind == Kind.ISOLATE:
            return links_between(frozenset(fault.nodes), self.nodes | {HOST})
        return links_between(frozenset(fault.nodes), self.nodes)

    def apply(self, fault: Fault) -> None:
        match fault.kind:
            case Kind.KILL:
                self.net.kill(fault.nodes[0])
            case Kind.PAUSE:
                self.net.pause(fault.nodes[0])
            case Kind.ISOLATE | Kind.SPLIT:
                for a, b in self._links(fault):
                    self.fabric.cut(a, b)
            case Kind.GATEWAY:
                self.net.kill_gateway()

    def heal(self, fault: Fault) -> None:
        match fault.kind:
            case Kind.KILL:
                self.net.start(fault.nodes[0])
            case Kind.PAUSE:
                self.net.resume(fault.nodes[0])
            case Kind.ISOLATE | Kind.SPLIT:
                for a, b in self._links(fault):
                    self.fabric.heal(a, b)
            case Kind.GATEWAY:
                self.net.start_gateway()


def _caught_up(net: ChaosNet, height: int, healed: float) -> float | None:
    try:
        net.wait_height(height, list(range(net.genesis.n)), CATCH_UP_BOUND_S)
    except ClusterError:
        return None
    return time.monotonic() - healed


def _faults(
    net: ChaosNet, config: ChaosConfig, report: ChaosReport
) -> list[tuple[Fault, float, float, float | None]]:
    """Apply faults one at a time until the duration is spent: (fault, applied, healed, caught up)."""
    scheduler = Scheduler(config.seed, net.genesis.n, config.timing, config.kinds)
    faults = _Faults(net)
    done: list[tuple[Fault, float, float, float | None]] = []
    start = time.monotonic()
    while time.monotonic() - start < config.duration_s:
        fault = scheduler.next()
        applied = time.monotonic()
        faults.apply(fault)
        time.sleep(fault.hold_s)
        try:
            faults.heal(fault)
        except ClusterError as exc:
            report.findings.append(f"{fault.describe()} could not be healed: {exc}")
            break
        healed = time.monotonic()
        top = top_height(net.addresses)
        caught = _caught_up(net, top + 1, healed)
        done.append((fault, applied, healed, caught))
        if caught is None:
            report.findings.append(
                f"STALLED: after {fault.describe()} healed, not every node committed past height {top} "
                f"within {CATCH_UP_BOUND_S:.0f} s; faults stopped"
            )
            break
        time.sleep(fault.gap_s)
    return done


def _records(
    done: list[tuple[Fault, float, float, float | None]], samples: list[Sample], start: float
) -> list[FaultRecord]:
    return [
        FaultRecord(fault, applied - start, healed - start, resume_after(samples, healed), caught)
        for fault, applied, healed, caught in done
    ]


def _settle(net: ChaosNet) -> int:
    """Wait until every node holds the highest height any holds; return it."""
    top = top_height(net.addresses)
    net.wait_height(top, list(range(net.genesis.n)), SETTLE_TIMEOUT_S)
    return top


def _check(net: ChaosNet, report: ChaosReport, node: NodeClient, election: LiveElection) -> None:
    """Read-only checks always run; the count needs the cluster to commit once more, and a cluster
    that cannot is itself the finding."""
    try:
        _settle(net)
    except ClusterError as exc:
        report.findings.append(f"nodes did not reach one height: {exc}")
    report.findings += checks.check_receipts(net.genesis, report.attempts)
    where = checks.presence(net.addresses, report.attempts)
    report.findings += where.findings
    report.committed_ok, report.absent = len(where.committed_ok), where.absent
    report.expected = expected_counts(where.committed_ok)
    try:
        result = close_and_count(node, election)
        report.counted = [int(c) for contest in result.contests for c in contest.counts]
        report.height = _settle(net)
    except VotestoreError as exc:
        report.findings.append(f"STALLED: the election could not be closed and counted: {exc}")
        report.height = min((h for h in heights(net.addresses) if h is not None), default=0)
    else:
        if report.counted != report.expected:
            report.findings.append(f"count {report.counted} is not {report.expected}")
    report.findings += checks.chains(net.addresses, report.height)
    report.verifier_exit, report.verifier_tail = checks.run_verifier(
        net.genesis_path, net.addresses, net.workdir / "verify.json"
    )
    if report.verifier_exit != 0:
        report.findings.append(f"verifier exit {report.verifier_exit}: {report.verifier_tail}")


def run_chaos(config: ChaosConfig, log: Callable[[str], None] = print) -> ChaosReport:
    """The whole run; every process, namespace, link and route it made is gone when it returns."""
    report = ChaosReport(config)
    log(f"chaos seed={config.seed} duration={config.duration_s:.0f}s workdir={config.workdir}")
    make_fabric, report.fallback_reason = choose_fabric(config.namespaces)
    net = ChaosNet.build(config.workdir, make_fabric)
    report.mode = net.mode
    log(f"fabric: {net.mode}" + (f" (fallback: {report.fallback_reason})" if report.fallback_reason else ""))
    reader = HeightReader(net.addresses)
    monitor = Monitor(reader)
    try:
        net.start_all()
        net.wait_ready()
        with NodeClient(net.addresses) as node:
            election = open_election(node, net.admin_key, config.voters)
            key = node.election(election.election_id).election_key
            net.start_gateway()
            monitor.start()
            start = time.monotonic()
            load = BallotLoad(net.gateway_target, election, key, config.rate_per_s, config.concurrency)
            load.start()
            try:
                done = _faults(net, config, report)
            finally:
                report.attempts = load.stop()
            log(f"faults done: {len(done)}; checking")
            _check(net, report, node, election)
        monitor.stop()
        samples = monitor.samples()
        report.faults = _records(done, samples, start)
        report.longest_stall_s, stall_at = longest_stall(samples)
        report.longest_stall_at_s = stall_at - start
        for record in report.faults:
            if record.resume_s is None or record.resume_s > RESUME_BOUND_S:
                report.findings.append(
                    f"{record.fault.describe()} healed at t={record.healed_at_s:.1f}s: commits resumed "
                    f"after {record.resume_s if record.resume_s is not None else 'never'} s "
                    f"(bound {RESUME_BOUND_S:.0f} s)"
                )
        report.peak_rss_bytes = net.peak_rss()
        if net.stop_gateway() not in (0, -15):
            report.findings.append("gateway did not stop cleanly")
    finally:
        monitor.stop()
        reader.close()
        net.close()
    report.findings += [f"{name} holds a traceback" for name in net.logs_with_tracebacks()]
    return report
