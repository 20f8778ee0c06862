"""The alert rules and the dashboard: promtool accepts the rules and its unit tests show each
alert firing and staying quiet; every metric they name is one a votestore process exports."""

from __future__ import annotations

import json
import re
from typing import Any, Final

import pytest
from prometheus_client import CollectorRegistry

from gateway.metrics import GatewayMetrics
from node.metrics import NodeMetrics
from tests.deploy.tools import MONITORING, run, system_tool
from tools.verify.follow import VerifierMetrics

ALERTS: Final = MONITORING / "alerts.yml"
DASHBOARD: Final = MONITORING / "dashboard.json"
METRIC_NAME: Final = re.compile(r"\bvotestore_[a-z0-9_]+")
REQUIRED_ALERTS: Final = {
    "VotestoreNodeStalled",
    "VotestorePeersBelowQuorum",
    "VotestoreVerifierDiscrepancy",
    "VotestoreMempoolFull",
    "VotestoreGatewayErrorRate",
    "VotestoreNodeDown",
    "VotestoreNodeTargetMissing",
    "VotestoreNodeAbsent",
    "VotestoreGatewayAbsent",
    "VotestoreVerifierAbsent",
    "VotestoreGatewayDown",
    "VotestoreVerifierDown",
    "VotestoreEvidence",
    "VotestoreNodeCatchingUp",
    "VotestoreNodeDiskFilling",
}


def _exported_names() -> set[str]:
    """Every sample name the node, the gateway and the verifier can export (…_total, …_bucket)."""
    verifier = CollectorRegistry()
    VerifierMetrics(verifier)
    registries = [NodeMetrics().registry, GatewayMetrics().registry, verifier]
    names = set()
    for registry in registries:
        for family in registry.collect():
            names.add(family.name)
            kind_suffixes = {
                "counter": ("_total",),
                "histogram": ("_bucket", "_sum", "_count"),
            }.get(family.type, ())
            names.update(family.name + suffix for suffix in kind_suffixes)
    return names


def _dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def _dashboard_exprs() -> list[str]:
    return [t["expr"] for p in _dashboard()["panels"] for t in p["targets"]]


def test_promtool_checks_the_rules() -> None:
    promtool = system_tool("promtool", "prometheus")
    result = run([promtool, "check", "rules", ALERTS])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rule_unit_tests_pass() -> None:
    promtool = system_tool("promtool", "prometheus")
    result = run([promtool, "test", "rules", MONITORING / "alerts_test.yml"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_issue_alerts_are_there_and_unit_tested() -> None:
    rules = ALERTS.read_text()
    tests = (MONITORING / "alerts_test.yml").read_text()
    defined = set(re.findall(r"- alert: (\w+)", rules))
    assert defined >= REQUIRED_ALERTS
    assert defined == set(re.findall(r"alertname: (\w+)", tests)), "every alert has a unit test"


@pytest.mark.parametrize(
    ("source", "text"),
    [("alerts.yml", ALERTS.read_text()), ("dashboard.json", "\n".join(_dashboard_exprs()))],
)
def test_every_metric_named_is_exported(source: str, text: str) -> None:
    named = set(METRIC_NAME.findall(text))
    assert named, f"{source} names no votestore metric"
    assert named <= _exported_names(), f"{source} names metrics nobody exports: {named - _exported_names()}"


def test_dashboard_has_the_panels_operators_watch() -> None:
    dashboard = _dashboard()
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    titles = {p["title"] for p in panels}
    for wanted in (
        "Committed height per node",
        "Commit rate",
        "Commit latency",
        "Mempool",
        "Turnout over time",
        "Targets up",
        "Double-vote evidence",
        "Catching up",
        "Validator disk free",
    ):
        assert wanted in titles
    assert any(t.startswith("Verifier") for t in titles)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}" and "datasource" in variables
        assert panel["targets"], panel["title"]
