"""`votestore verifier run`: follow every node, check each new block as it commits, and expose
Prometheus metrics; every discrepancy is reported the moment it is found."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge

from tools.verify.findings import Check, Finding
from tools.verify.nodes import Report
from tools.verify.snapshot import Reach
from tools.verify.sources import NodeSource, SourceDown
from tools.verify.verifier import LAG_TOLERANCE_BLOCKS, Verifier
from votestore.genesis import Genesis
from votestore.version import register_build_info

log = logging.getLogger("votestore.verifier")

POLL_INTERVAL_S: Final = 1.0
PROGRESS_EVERY_S: Final = 60.0
"""An INFO progress line at most this often; every round is logged at DEBUG."""
FETCH_CHUNK_BLOCKS: Final = 256
"""At most this many blocks per node per poll, so a long history is caught up in bounded steps."""


class VerifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        register_build_info(registry, "verifier")
        self.node_up = Gauge(
            "votestore_verifier_node_up", "1 if the node answered the last poll", ["node"], registry=registry
        )
        self.node_height = Gauge(
            "votestore_verifier_node_height", "Height the node reports", ["node"], registry=registry
        )
        self.verified_height = Gauge(
            "votestore_verifier_verified_height",
            "Highest height of the node checked against the agreed chain",
            ["node"],
            registry=registry,
        )
        self.lag = Gauge(
            "votestore_verifier_lag_blocks",
            "Blocks the node is behind the highest node",
            ["node"],
            registry=registry,
        )
        self.agreed_height = Gauge(
            "votestore_verifier_agreed_height",
            "Height agreed, certified and replayed",
            registry=registry,
        )
        self.discrepancies = Counter(
            "votestore_verifier_discrepancies_total",
            "Discrepancies found, per check",
            ["check"],
            registry=registry,
        )
        for check in Check:
            self.discrepancies.labels(check.value)

    def update(self, report: Report, new: Sequence[Finding]) -> None:
        for row in report.nodes:
            self.node_up.labels(row.name).set(1 if row.status not in ("down", "wrong_chain") else 0)
            self.node_height.labels(row.name).set(row.height)
            self.verified_height.labels(row.name).set(row.verified_height)
            self.lag.labels(row.name).set(row.lag)
        self.agreed_height.set(report.agreed_height)
        for finding in new:
            self.discrepancies.labels(finding.check.value).inc()


class RoundLog:
    """What the verifier logs of its rounds: each finding (WARNING), each change of a node's
    status (INFO), a progress line at most every PROGRESS_EVERY_S (INFO), each round (DEBUG)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._status: dict[str, str] = {}
        self._last_progress: float | None = None

    def round(self, report: Report, new: Sequence[Finding]) -> None:
        for finding in new:
            log.warning(
                "event=discrepancy check=%s height=%d nodes=%s %s",
                finding.check.value,
                finding.height,
                ",".join(finding.nodes) or "all",
                finding.line(),
            )
        for row in report.nodes:
            if self._status.get(row.name) != row.status:
                self._status[row.name] = row.status
                log.info(
                    "event=node_status node=%s status=%s height=%d detail=%s",
                    row.name,
                    row.status,
                    row.height,
                    row.detail or "-",
                )
        now = self._clock()
        ok = sum(row.status == "ok" for row in report.nodes)
        if self._last_progress is None or now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            log.info(
                "event=progress agreed_height=%d nodes_ok=%d/%d findings=%d",
                report.agreed_height,
                ok,
                len(report.nodes),
                len(report.findings) + report.findings_dropped,
            )
        else:
            log.debug(
                "event=round agreed_height=%d nodes_ok=%d new_findings=%d", report.agreed_height, ok, len(new)
            )


class Follower:
    """Polls every node; one `Verifier` holds all that was checked."""

    def __init__(
        self,
        genesis: Genesis,
        sources: Sequence[NodeSource],
        *,
        on_finding: Callable[[Finding], None],
        registry: CollectorRegistry,
        workers: int = 1,
        lag_tolerance: int = LAG_TOLERANCE_BLOCKS,
    ) -> None:
        self._genesis = genesis
        self._sources = list(sources)
        self._on_finding = on_finding
        self._verifier = Verifier(genesis, workers=workers, lag_tolerance=lag_tolerance)
        self._fetched = {s.name: 0 for s in sources}
        self.metrics = VerifierMetrics(registry)
        self._log = RoundLog()

    def poll(self) -> Report:
        """Fetch what each node committed since the last poll, check it, report new findings."""
        for source in self._sources:
            info = source.info(self._genesis)
            self._verifier.set_node(info)
            fetched = self._fetched[source.name]
            if info.reach != Reach.UP or info.height <= fetched:
                continue
            last = min(info.height, fetched + FETCH_CHUNK_BLOCKS)
            try:
                self._verifier.add_blocks(source.name, source.blocks(fetched + 1, last), last)
            except SourceDown as exc:
                self._verifier.set_node(dataclasses.replace(info, reach=Reach.DOWN, detail=str(exc)))
                continue
            self._fetched[source.name] = last
        new = self._verifier.advance()
        for finding in new:
            self._on_finding(finding)
        report = self._verifier.report()
        self.metrics.update(report, new)
        self._log.round(report, new)
        return report

    def run(self, stop: threading.Event, interval_s: float = POLL_INTERVAL_S) -> Report:
        """Poll until `stop` is set; returns the last report."""
        report = self.poll()
        while not stop.wait(interval_s):
            report = self.poll()
        return report

    def close(self) -> None:
        self._verifier.close()
        for source in self._sources:
            source.close()
