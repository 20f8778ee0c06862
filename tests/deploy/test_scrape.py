"""A real Prometheus (Debian package `prometheus`) scrapes a live local 4-node cluster, a gateway
and a verifier on 127.0.0.1, with the alert rules loaded: every target is up, the committed
height has a value for every node, and promtool accepts each process's metrics output."""

from __future__ import annotations

import json
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from ops.cluster import HOST, LocalNet, free_port
from tests.deploy.processes import Process, http_get, wait_for
from tests.deploy.tools import MONITORING, run, system_tool

pytestmark = pytest.mark.cluster

START_S: Final = 60.0
SCRAPE_S: Final = 60.0
SCRAPE_INTERVAL: Final = "1s"
VERIFIER_INTERVAL_S: Final = 0.5
JOBS: Final = ("votestore-node", "votestore-gateway", "votestore-verifier")


@dataclass
class Stack:
    net: LocalNet
    targets: dict[str, list[str]]  # job -> host:port of its metrics endpoints
    processes: list[Process]


def _votestore(*args: str) -> list[str]:
    return [sys.executable, "-m", "votestore", *args]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    net = LocalNet.create(tmp_path / "net", metrics=True)
    processes: list[Process] = []
    try:
        net.start_all()
        net.wait_ready()
        gateway_port, gateway_metrics, verifier_metrics = free_port(), free_port(), free_port()
        config = tmp_path / "gateway.toml"
        config.write_text(
            f'listen = "{HOST}:{gateway_port}"\n'
            f'genesis = "{net.genesis_path}"\n'
            f"metrics_port = {gateway_metrics}\n"
            "insecure_plaintext = true\n"
        )
        processes.append(
            Process.start(
                "gateway", _votestore("gateway", "run", "--config", str(config)), tmp_path / "gateway.log"
            )
        )
        verifier = _votestore(
            "verifier", "run", "--genesis", str(net.genesis_path), "--metrics-host", HOST,
            "--insecure-plaintext", "--metrics-port", str(verifier_metrics),
            "--interval", str(VERIFIER_INTERVAL_S),
        )  # fmt: skip
        processes.append(Process.start("verifier", verifier, tmp_path / "verifier.log"))
        targets = {
            "votestore-node": [f"{HOST}:{port}" for port in net.metrics_ports],
            "votestore-gateway": [f"{HOST}:{gateway_metrics}"],
            "votestore-verifier": [f"{HOST}:{verifier_metrics}"],
        }
        yield Stack(net, targets, processes)
    finally:
        for process in reversed(processes):
            process.stop()
        net.close()
    for log in [*net.workdir.glob("node*.log"), *(p.log for p in processes)]:
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"


def _metrics(stack: Stack, target: str) -> bytes:
    return wait_for(
        f"{target} serves /metrics", lambda: http_get(f"http://{target}/metrics"), START_S, stack.processes
    )


def test_promtool_accepts_every_process_metrics(stack: Stack) -> None:
    promtool = system_tool("promtool", "prometheus")
    for job, targets in stack.targets.items():
        for target in targets:
            body = _metrics(stack, target)
            assert b"votestore_" in body, f"{job} at {target} exports no votestore metric"
            result = run([promtool, "check", "metrics"], stdin=body)
            assert result.returncode == 0, f"{job} at {target}:\n{result.stdout}{result.stderr}"


def _prometheus_config(stack: Stack, path: Path) -> None:
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(MONITORING / "alerts.yml")],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in stack.targets.items()
        ],
    }
    path.write_text(json.dumps(config))  # JSON is YAML


def _query(base: str, promql: str) -> list[dict[str, Any]] | None:
    body = http_get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    if body is None:
        return None
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_prometheus_scrapes_the_height_of_every_node(stack: Stack, tmp_path: Path) -> None:
    binary = system_tool("prometheus", "prometheus")
    config = tmp_path / "prometheus.yml"
    _prometheus_config(stack, config)
    port = free_port()
    server = Process.start(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={HOST}:{port}",
        ],
        tmp_path / "prometheus.log",
    )
    base = f"http://{HOST}:{port}"
    try:
        watch = [*stack.processes, server]
        wait_for("Prometheus became ready", lambda: http_get(f"{base}/-/ready"), START_S, watch)
        nodes = set(stack.targets["votestore-node"])

        def heights() -> dict[str, float] | None:
            result = _query(base, 'votestore_node_height{job="votestore-node"}')
            found = {r["metric"]["instance"]: float(r["value"][1]) for r in result or []}
            return found if set(found) == nodes and all(h >= 1 for h in found.values()) else None

        try:
            height = wait_for("a committed height for every node", heights, SCRAPE_S, watch)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last answer {_query(base, 'votestore_node_height')}") from None
        assert set(height) == nodes

        def all_up() -> list[dict[str, Any]] | None:
            result = _query(base, "up")
            return (
                result if result and len(result) == 6 and all(r["value"][1] == "1" for r in result) else None
            )

        up = wait_for("every target up", all_up, SCRAPE_S, watch)
        assert {r["metric"]["job"] for r in up} == set(JOBS)
        verified = wait_for(
            "the verifier's agreed height",
            lambda: _query(base, "votestore_verifier_agreed_height > 0") or None,
            SCRAPE_S,
            watch,
        )
        assert len(verified) == 1
        rules = json.loads(
            wait_for("the rules API", lambda: http_get(f"{base}/api/v1/rules"), START_S, watch)
        )
        loaded = [rule for group in rules["data"]["groups"] for rule in group["rules"]]
        assert len(loaded) == (MONITORING / "alerts.yml").read_text().count("- alert:")
        assert all(rule["health"] != "err" for rule in loaded), loaded
    finally:
        server.stop()
    assert "level=error" not in server.log.read_text(), server.tail()
