"""`votestore verify`, `votestore verifier run` and `votestore ledger export`: the observer's
commands. They need the genesis file and the nodes' public API (or exported ledger files), nothing
else — no key, no database, no trust in any node."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Final

import typer
from prometheus_client import CollectorRegistry, start_http_server

from ops.cli.common import JsonOpt, echo_json, fail, validator_dialer
from tools.verify.export import export_ledger
from tools.verify.follow import POLL_INTERVAL_S, Follower
from tools.verify.once import verify_once
from tools.verify.report import exit_code, render_json, render_text
from tools.verify.sources import FileSource, Source, node_sources
from tools.verify.verifier import LAG_TOLERANCE_BLOCKS
from votestore import logs
from votestore import version as build
from votestore.errors import VotestoreError
from votestore.genesis import Genesis, load_genesis

DEFAULT_METRICS_PORT: Final = 9108

GenesisOpt = Annotated[Path, typer.Option("--genesis", help="The chain's genesis file.")]
NodesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--node",
        help="HOST:PORT of a node's public API (or INDEX=HOST:PORT for a validator at another "
        "address); repeat. Default: every genesis validator.",
    ),
]
CasOpt = Annotated[
    Path | None,
    typer.Option(
        "--validator-cas",
        help="The validators' CA bundle (`votestore keys tls bundle`): reach nodes over TLS, each "
        "checked against its genesis key.",
    ),
]
PlaintextOpt = Annotated[
    bool,
    typer.Option("--insecure-plaintext", help="Plaintext instead of TLS; only to loopback addresses."),
]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Processes checking ballot proofs.")]
LagOpt = Annotated[
    int, typer.Option("--lag-tolerance", min=0, help="Blocks behind the highest node before 'lagging'.")
]


def _genesis(path: Path) -> Genesis:
    try:
        return load_genesis(path)
    except VotestoreError as exc:
        fail(str(exc))


def _addresses(genesis: Genesis, nodes: list[str] | None) -> list[str]:
    return list(nodes) if nodes else [v.public_address for v in genesis.validators]


def verify(
    genesis: GenesisOpt,
    node: NodesOpt = None,
    ledger: Annotated[
        list[Path] | None, typer.Option("--ledger", help="A ledger file from `ledger export`; repeat.")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Also write the report as JSON here ('-': print it instead of the text)."
        ),
    ] = None,
    workers: WorkersOpt = 1,
    lag_tolerance: LagOpt = LAG_TOLERANCE_BLOCKS,
    validator_cas: CasOpt = None,
    insecure_plaintext: PlaintextOpt = False,
) -> None:
    """Check every node's ledger once; exit 0 only if everything holds and every node answered
    (1: a discrepancy was found; 3: none found, but a node was down or on another chain)."""
    chain = _genesis(genesis)
    sources: list[Source] = []
    try:
        if ledger:
            sources += [FileSource(p) for p in ledger]
        if node or not ledger:
            nodes = _addresses(chain, node)
            sources += node_sources(
                chain, nodes, validator_dialer(chain, nodes, validator_cas, insecure_plaintext)
            )
        report = verify_once(chain, sources, workers=workers, lag_tolerance=lag_tolerance)
    except (VotestoreError, OSError) as exc:
        fail(str(exc))
    finally:
        for source in sources:
            source.close()
    if json_out is not None and str(json_out) == "-":
        typer.echo(render_json(report), nl=False)
    else:
        typer.echo(render_text(report), nl=False)
        if json_out is not None:
            json_out.write_text(render_json(report))
    raise typer.Exit(exit_code(report))


def verifier_run(
    genesis: GenesisOpt,
    node: NodesOpt = None,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="Serve Prometheus metrics on this port (0: none).")
    ] = DEFAULT_METRICS_PORT,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host",
            help="Address the metrics server listens on: 127.0.0.1 keeps it local; 0.0.0.0 in a pod.",
        ),
    ] = "127.0.0.1",
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="Seconds between polls.")
    ] = POLL_INTERVAL_S,
    workers: WorkersOpt = 1,
    lag_tolerance: LagOpt = LAG_TOLERANCE_BLOCKS,
    validator_cas: CasOpt = None,
    insecure_plaintext: PlaintextOpt = False,
) -> None:
    """Follow all nodes continuously; log each discrepancy the moment it is found."""
    try:
        logs.setup("verifier")
    except VotestoreError as exc:
        fail(str(exc))
    logging.getLogger("votestore.verifier").info("event=start component=verifier %s", build.log_fields())
    chain = _genesis(genesis)
    nodes = _addresses(chain, node)
    try:
        sources = node_sources(
            chain, nodes, validator_dialer(chain, nodes, validator_cas, insecure_plaintext)
        )
    except VotestoreError as exc:
        fail(str(exc))
    registry = CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, addr=metrics_host, registry=registry)

    follower = Follower(
        chain,
        sources,
        on_finding=lambda _: None,  # the follower logs each finding (event=discrepancy)
        registry=registry,
        workers=workers,
        lag_tolerance=lag_tolerance,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        report = follower.run(stop, interval)
    finally:
        follower.close()
    typer.echo(render_text(report), nl=False)
    raise typer.Exit(exit_code(report))


def ledger_export(
    genesis: GenesisOpt,
    out: Annotated[Path, typer.Option("--out", help="The ledger file to write.")],
    node: Annotated[
        str | None, typer.Option("--node", help="HOST:PORT of the running node to export.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="A STOPPED node's data dir, read directly (instead of --node)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="With --data-dir: the node's name in the file (default: the dir's name)."
        ),
    ] = None,
    validator_cas: CasOpt = None,
    insecure_plaintext: PlaintextOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Export a node's committed blocks and election states to a file for `verify --ledger`: from
    a running node (--node), or from a stopped one's store (--data-dir), even one its node refuses
    to start on, so the verifier can name the damage."""
    chain = _genesis(genesis)
    if (node is None) == (data_dir is None):
        fail("give either --node HOST:PORT (a running node) or --data-dir DIR (a stopped one)")
    try:
        if data_dir is not None:
            from ops.store_export import export_store  # the store's imports are heavy

            label = name or data_dir.resolve().name
            written = export_store(
                chain, data_dir, out, label, lambda line: typer.echo(f"warning: {line}", err=True)
            )
            _exported(as_json, written, f"the store in {data_dir}", out)
            return
        assert node is not None
        written = export_ledger(
            chain, node, out, validator_dialer(chain, [node], validator_cas, insecure_plaintext)
        )
    except (VotestoreError, OSError) as exc:
        fail(str(exc))
    _exported(as_json, written, node, out)


def _exported(as_json: bool, blocks: int, source: str, out: Path) -> None:
    if as_json:
        echo_json({"blocks": blocks, "source": source, "out": str(out)})
    else:
        typer.echo(f"exported {blocks} blocks from {source} to {out}")
