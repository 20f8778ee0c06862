"""The verifier's network side against in-process fake nodes: export, once over gRPC with a node
down, the follower's metrics and immediate findings, and the CLI's exit codes and JSON."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import typer
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from ops.cli.verify import ledger_export, verify
from ops.cluster import HOST, free_port
from tests.verify import kit
from tests.verify.fake_node import FakeNode, serve
from tools.verify.export import export_ledger
from tools.verify.findings import Check, Finding
from tools.verify.follow import Follower
from tools.verify.ledger_file import LedgerReader
from tools.verify.sources import NodeSource


@pytest.fixture
def cluster(election: kit.Election) -> Iterator[tuple[list[FakeNode], list[str]]]:
    nodes = [FakeNode(election.chain.blocks, election.chain.states) for _ in range(4)]
    servers = [serve(n) for n in nodes]
    yield nodes, [address for _, address in servers]
    for server, _ in servers:
        server.stop(grace=None)


def free_address() -> str:
    """An address nothing listens on."""
    return f"{HOST}:{free_port()}"


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("verify")(verify)
    app.command("export")(ledger_export)
    return app


def genesis_file(tmp_path: Path) -> Path:
    path = tmp_path / "genesis.json"
    path.write_text(kit.GENESIS.to_json())
    return path


def test_export_writes_what_the_node_serves(
    cluster: tuple[list[FakeNode], list[str]], tmp_path: Path
) -> None:
    _, addresses = cluster
    out = tmp_path / "n0.ledger"
    assert export_ledger(kit.GENESIS, addresses[0], out) == 7
    reader = LedgerReader(out)
    assert (reader.header.height, reader.header.state_height) == (7, 7)
    assert [b.block.header.height for b in reader.blocks()] == list(range(1, 8))
    assert [e.definition.election_id for e in reader.elections] == [kit.ELECTION]
    reader.close()


def test_cli_verify_nodes_with_one_down_exits_3_and_names_it(
    cluster: tuple[list[FakeNode], list[str]], tmp_path: Path
) -> None:
    _, addresses = cluster
    down = free_address()
    report_path = tmp_path / "report.json"
    args = [
        "verify",
        "--genesis",
        str(genesis_file(tmp_path)),
        "--json",
        str(report_path),
        "--insecure-plaintext",
    ]
    for address in [*addresses[:3], down]:
        args += ["--node", address]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 3, result.output
    document = json.loads(report_path.read_text())
    assert document["clean"] is True
    assert [n["status"] for n in document["nodes"]] == ["ok", "ok", "ok", "down"]
    assert document["nodes"][3]["address"] == down
    assert document["checks"]["ballot"] == {"passed": 5, "failed": 0}
    assert "no discrepancies" in result.output


def test_cli_verify_ledgers_exits_1_on_a_discrepancy(election: kit.Election, tmp_path: Path) -> None:
    def drop(blocks: list[object], _: object) -> None:
        del blocks[4]

    paths = kit.export(tmp_path, election.chain, tamper={0: drop})
    args = ["verify", "--genesis", str(genesis_file(tmp_path)), "--insecure-plaintext"]
    for path in paths:
        args += ["--ledger", str(path)]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 1, result.output
    assert "completeness: node0 height 5 block: height 5 not served" in result.output


def test_cli_export_then_verify_offline(cluster: tuple[list[FakeNode], list[str]], tmp_path: Path) -> None:
    _, addresses = cluster
    genesis = str(genesis_file(tmp_path))
    args = ["verify", "--genesis", genesis, "--insecure-plaintext"]
    for i, address in enumerate(addresses):
        out = tmp_path / f"{i}.ledger"
        exported = CliRunner().invoke(
            cli(),
            ["export", "--genesis", genesis, "--node", address, "--out", str(out), "--insecure-plaintext"],
        )
        assert exported.exit_code == 0, exported.output
        args += ["--ledger", str(out)]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output


def test_follower_reports_new_blocks_lag_and_first_discrepancy_at_once(
    election: kit.Election, cluster: tuple[list[FakeNode], list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="votestore.verifier")
    nodes, addresses = cluster
    for node in nodes:
        node.height = 3
    seen: list[Finding] = []
    registry = CollectorRegistry()
    sources = [NodeSource(a, v.name) for a, v in zip(addresses, kit.GENESIS.validators, strict=True)]
    follower = Follower(kit.GENESIS, sources, on_finding=seen.append, registry=registry)
    try:
        report = follower.poll()
        assert report.agreed_height == 3 and report.clean
        for node in nodes[:3]:
            node.height = 7
        report = follower.poll()
        assert report.agreed_height == 7 and not seen
        assert registry.get_sample_value("votestore_verifier_lag_blocks", {"node": "node3"}) == 4
        assert {r.name: r.status for r in report.nodes}["node3"] == "lagging"
        bad = kit.copy(election.chain.blocks[3])
        bad.block.txs[0] = bad.block.txs[1]
        nodes[3].blocks[3] = bad
        nodes[3].height = 7
        follower.poll()
        assert [(f.check, f.height, f.nodes) for f in seen] == [
            (Check.HEADER, 4, ("node3",)),
            (Check.AGREEMENT, 4, ("node3",)),
        ]
        assert (
            registry.get_sample_value("votestore_verifier_discrepancies_total", {"check": "agreement"}) == 1
        )
        assert registry.get_sample_value("votestore_verifier_verified_height", {"node": "node3"}) == 7
        # The verifier logs its rounds: a progress line, node3 going lagging, each finding.
        lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "votestore.verifier"]
        assert ("INFO", "event=progress agreed_height=3 nodes_ok=4/4 findings=0") in lines, lines
        assert any(m.startswith("event=node_status node=node3 status=lagging") for _, m in lines), lines
        warned = [m for level, m in lines if level == "WARNING"]
        assert [m.split(" nodes=")[0] for m in warned] == [
            "event=discrepancy check=header height=4",
            "event=discrepancy check=agreement height=4",
        ], warned
    finally:
        follower.close()


def test_follower_stops_when_asked(cluster: tuple[list[FakeNode], list[str]]) -> None:
    _, addresses = cluster
    sources = [NodeSource(a, a) for a in addresses]
    follower = Follower(kit.GENESIS, sources, on_finding=lambda _: None, registry=CollectorRegistry())
    stop = threading.Event()
    stop.set()
    try:
        assert follower.run(stop, interval_s=0.05).agreed_height == 7
    finally:
        follower.close()


def test_unreachable_node_is_down_not_faulty(tmp_path: Path) -> None:
    source = NodeSource(free_address(), "nowhere")
    try:
        info = source.info(kit.GENESIS)
    finally:
        source.close()
    assert info.reach.value == "down" and "UNAVAILABLE" in info.detail
    assert isinstance(grpc.StatusCode.UNAVAILABLE, grpc.StatusCode)
