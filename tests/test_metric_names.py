"""Metric names follow one convention (issue 22), checked on what the processes expose — the
prometheus_client registries of node, gateway, verifier and notice sender — and every metric the
alert rules, their promtool tests, the dashboard and the docs name must be one of them.

The convention (Prometheus's, made precise where it leaves a choice):
* `votestore_<component>_…`, component one of node, gateway, verifier, notices; the one shared
  name is `votestore_build_info`.
* counters end in `_total`, nothing else does; `_info` only on info metrics.
* units as suffixes, base units: time in `_seconds`, sizes in `_bytes`; never `_ms`, `_millis`.
* transactions are `txs` (`mempool_txs`, `txs_committed_total`, `txs_refused_total`).
* a height (a block index: node, checked, agreed, verified) is `…_height`, with no unit; an
  amount of blocks (a lag, blocks fetched) ends in `_blocks` (or `_blocks_total`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest
from prometheus_client import CollectorRegistry

from gateway.metrics import GatewayMetrics
from node.metrics import NodeMetrics
from notices.metrics import NoticeMetrics
from tools.verify.follow import VerifierMetrics

ROOT: Final = Path(__file__).resolve().parents[1]
COMPONENTS: Final = ("node", "gateway", "verifier", "notices")
SHARED: Final = {"votestore_build_info"}
SUFFIXES: Final = ("_bucket", "_count", "_sum", "_created", "_total", "_info")
NAMED_IN: Final = (
    "deploy/k8s/monitoring/alerts.yml",
    "deploy/k8s/monitoring/alerts_test.yml",
    "deploy/k8s/monitoring/dashboard.json",
    "deploy/k8s/README.md",
    "README.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
)
RENAMED: Final = {
    "votestore_verifier_node_height_blocks": "votestore_verifier_node_height",
    "votestore_verifier_verified_height_blocks": "votestore_verifier_verified_height",
    "votestore_verifier_agreed_height_blocks": "votestore_verifier_agreed_height",
    "votestore_peer_handshakes_refused_total": "votestore_node_peer_handshakes_refused_total",
    "votestore_node_tx_refused_total": "votestore_node_txs_refused_total",
}
"""Old names the docs may still mention, to say what they became; rules and dashboard may not."""
NAME: Final = re.compile(r"\bvotestore_[a-z0-9_]*[a-z0-9]")


def _exposed() -> dict[str, str]:
    """Family name (as exposed: counters with `_total`) -> type, for every component."""
    verifier = CollectorRegistry()
    VerifierMetrics(verifier)
    registries = [NodeMetrics().registry, GatewayMetrics().registry, verifier, NoticeMetrics().registry]
    found: dict[str, str] = {}
    for registry in registries:
        for family in registry.collect():
            name = family.name + ("_total" if family.type == "counter" else "")
            name += "_info" if family.type == "info" else ""
            found[name] = family.type
    return found


EXPOSED: Final = _exposed()


def _wrong(name: str, kind: str) -> list[str]:
    wrong = []
    if name not in SHARED and not any(name.startswith(f"votestore_{c}_") for c in COMPONENTS):
        wrong.append("not votestore_<component>_")
    if (kind == "counter") != name.endswith("_total"):
        wrong.append("_total is for counters, and every counter has it")
    if (kind == "info") != name.endswith("_info") and not (kind == "gauge" and name.endswith("_chain_info")):
        wrong.append("_info is for info metrics (and the chain_info gauge)")
    if re.search(r"_(ms|millis|milliseconds|secs|minutes|kb|mb|kib|mib)(_|$)", name):
        wrong.append("not a base unit")
    if re.search(r"(latency|duration|interval|time|age)(_total)?$", name):
        wrong.append("a time without _seconds")
    if re.search(r"_height_", name):
        wrong.append("a height carries no unit")
    if re.search(r"_(lag|fetched)$", name):
        wrong.append("an amount of blocks ends in _blocks")
    if "_tx_" in name:
        wrong.append("transactions are _txs_, as in mempool_txs and txs_committed_total")
    return wrong


def test_there_are_metrics_from_every_component() -> None:
    for component in COMPONENTS:
        assert any(n.startswith(f"votestore_{component}_") for n in EXPOSED), component


@pytest.mark.parametrize("name", sorted(EXPOSED))
def test_every_exposed_name_follows_the_convention(name: str) -> None:
    assert _wrong(name, EXPOSED[name]) == [], name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("votestore_verifier_agreed_height_blocks", "gauge"),
        ("votestore_peer_handshakes_refused_total", "counter"),
        ("votestore_node_commit_latency_ms", "histogram"),
        ("votestore_node_commits", "counter"),
        ("votestore_node_lag", "gauge"),
        ("votestore_node_tx_refused_total", "counter"),
    ],
)
def test_the_rules_catch_the_old_names(name: str, kind: str) -> None:
    assert _wrong(name, kind), name


def test_renamed_names_are_gone_and_their_new_names_exposed() -> None:
    assert not RENAMED.keys() & EXPOSED.keys()
    assert set(RENAMED.values()) <= EXPOSED.keys()


def _known(token: str) -> bool:
    if token in EXPOSED:
        return True
    return any(
        token.endswith(s) and token.removesuffix(s) + t in EXPOSED for s in SUFFIXES for t in ("", "_total")
    )


@pytest.mark.parametrize("where", NAMED_IN)
def test_every_metric_a_rule_dashboard_or_page_names_is_exposed(where: str) -> None:
    text = (ROOT / where).read_text()
    allowed = RENAMED.keys() if where.startswith("docs/") else set()
    unknown = sorted({t for t in NAME.findall(text) if t.count("_") >= 2 and not _known(t)} - allowed)
    assert unknown == [], f"{where} names metrics nothing exposes: {unknown}"
