"""Clusters start through one driver: ops/cluster/process.py is the only module of the tools,
benchmarks and cluster tests that starts a validator or gateway process, and the demo, the chaos
harness, the benchmarks and the cluster tests each get their cluster from ops.cluster. Ballots
are cast the same way: ops/cluster/casting.py is the only casting loop of the tools and
benchmarks, and the demo, the chaos load and the benchmarks' load cast through it.

A grep over the source, not a run: a second launcher is a copy that drifts (two existed, with
different stop signals and ready waits), and it is easiest to see where it is written.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[1]
ONE_PLACE: Final = "ops/cluster/process.py"
SPAWNS: Final = re.compile(
    r"subprocess\.Popen\(|create_subprocess_exec\(|os\.(?:spawn|exec)\w*\("
    r"|[\"'](?:node|gateway)[\"'],\s*[\"']run[\"']"
)
"""A child process started, or a `votestore node|gateway run` command built."""

TESTS_THAT_START_THEIR_OWN: Final = {
    "tests/node/test_twin.py": "a second process holding a validator's key: the attack under test",
    "tests/node/test_config_errors.py": "a node that must refuse to start, and its one-line error",
    "tests/deploy/processes.py": "the verifier and Prometheus beside a LocalNet, as deployed",
    "tests/deploy/test_scrape.py": "the gateway and verifier with the deploy manifests' metrics flags",
    "tests/e2e/demo_process.py": "the `votestore demo` command itself, as a user runs it",
    "tests/chaos/test_units.py": "small Python helpers for the fabric's unit tests, no votestore role",
    "tests/gateway/test_cli.py": "the CLI's `gateway run` refusing a bad config, in process",
    "tests/deploy/test_manifests.py": "the manifests' container arguments, read, not run",
    "tests/node/test_twin_stream.py": "a twin holding a validator's key, whose stream the peers refuse",
    "tests/notices/test_crash.py": "the notices sender, killed mid-campaign: not a cluster member",
    "tests/test_cli.py": "`node run --bogus`, a usage error: no node starts",
    "tests/node/builds.py": "test-only validator builds (liar, hostile, twin), not votestore's node",
    "tests/node/test_amnesia.py": "a twin with a validator's key and a fresh store: the amnesia guard's case",
    "tests/web/test_bundle_check.py": "a plain http.server serving a tampered page `web serve` would refuse",
}
"""Tests that start a process that is not a cluster member on purpose; each says why."""

USERS: Final = (
    "ops/demo/run.py",
    "ops/chaos/cluster.py",
    "ops/chaos/election.py",
    "bench/cluster.py",
    "bench/one_down.py",
    "bench/roll.py",
    "bench/catchup.py",
    "tests/cluster.py",
    "tests/cli/test_admin_page.py",
)
"""The demo, the chaos harness (its cluster and its election), the benchmarks and the cluster
tests: each must use the driver."""


def _spawners(root: str) -> set[str]:
    found = set()
    for path in sorted((ROOT / root).rglob("*.py")):
        if SPAWNS.search(path.read_text()):
            found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("root", ["ops", "bench"])
def test_only_the_driver_starts_processes_in_the_tools_and_benchmarks(root: str) -> None:
    assert _spawners(root) - {ONE_PLACE} == set()


def test_tests_start_cluster_processes_only_through_the_driver() -> None:
    found = _spawners("tests") - {Path(__file__).relative_to(ROOT).as_posix()}
    assert found - TESTS_THAT_START_THEIR_OWN.keys() == set()
    assert TESTS_THAT_START_THEIR_OWN.keys() - found == set(), "an exception no longer needed"


def test_the_one_place_does_start_the_roles() -> None:
    assert _spawners("ops") == {ONE_PLACE}


def _imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize("user", USERS)
def test_demo_chaos_bench_and_cluster_tests_use_the_driver(user: str) -> None:
    modules = _imported(ROOT / user)
    assert any(m == "ops.cluster" or m.startswith("ops.cluster.") for m in modules), modules


def test_the_chaos_cluster_starts_and_stops_nodes_as_localnet_does() -> None:
    """Only where a node runs (the fabric's namespace) differs; starting and stopping are shared."""
    from ops.chaos.cluster import ChaosNet
    from ops.cluster import LocalNet

    assert issubclass(ChaosNet, LocalNet)
    for method in ("start", "stop", "kill", "wait_ready", "wait_height"):
        assert getattr(ChaosNet, method) is getattr(LocalNet, method), method


CASTING: Final = "ops/cluster/casting.py"
CASTS: Final = re.compile(r"\.(?:cast_signed|cast_assisted|wait_receipt|cast)\(")
"""A ballot sent to a gateway, or a receipt waited for, with the SDK's GatewayClient."""
CASTS_ONE_BALLOT: Final = {
    "ops/cli/cast.py": "`votestore cast`: one voter's one ballot and its receipt, no load",
}
CASTING_USERS: Final = ("ops/demo/casting.py", "ops/chaos/load.py", "bench/load.py")
"""The demo's casting, the chaos harness's steady load and the benchmarks' load."""


def _casters(root: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / root).rglob("*.py"))
        if CASTS.search(path.read_text())
    }


@pytest.mark.parametrize("root", ["ops", "bench"])
def test_only_the_casting_module_casts_ballots_in_the_tools_and_benchmarks(root: str) -> None:
    """A fourth casting loop (its own retries, receipt waits and pace) fails here."""
    assert _casters(root) - {CASTING} - CASTS_ONE_BALLOT.keys() == set()


def test_the_casting_module_does_cast() -> None:
    assert CASTING in _casters("ops")
    assert CASTS_ONE_BALLOT.keys() <= _casters("ops"), "an exception no longer needed"


@pytest.mark.parametrize("user", CASTING_USERS)
def test_demo_chaos_and_bench_cast_through_the_casting_module(user: str) -> None:
    assert "ops.cluster.casting" in _imported(ROOT / user)


def test_a_process_holder_says_how_it_starts_and_stops() -> None:
    """`process.Started` is abstract: a holder that leaves out `stop` cannot be made (an ABC
    refuses it at construction), rather than failing at the end of its `with`."""
    from ops.cluster.process import Started

    class StartOnly(Started):
        def start(self) -> None:
            pass

    with pytest.raises(TypeError, match="abstract"):
        StartOnly()  # type: ignore[abstract]

    calls: list[str] = []

    class Both(StartOnly):
        def stop(self) -> int:
            calls.append("stop")
            return 0

        def start(self) -> None:
            calls.append("start")

    with Both():
        calls.append("inside")
    assert calls == ["start", "inside", "stop"]
