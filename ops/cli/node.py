"""`votestore node`: run one validator, or check a stopped one's store."""

from __future__ import annotations

from pathlib import Path

import typer

from ops.cli.backup import backup, restore, store_location
from ops.cli.common import JsonOpt, echo_json
from ops.cli.node_init import init
from ops.cli.node_status import status

app = typer.Typer(
    help="Run a validator node, ask one how it is, check, back up or restore its store offline.",
    no_args_is_help=True,
)
app.command("init")(init)
app.command("status")(status)
app.command("backup")(backup)
app.command("restore")(restore)


@app.command("run")
def run(config: Path = typer.Option(..., "--config", help="The node's TOML config.")) -> None:
    """Run one validator until SIGTERM: checks its store, joins its peers, serves its API."""
    from node.main import run_node  # the node's imports are heavy; other commands don't pay them

    run_node(config)


@app.command("check")
def check(
    data_dir: Path | None = typer.Argument(None, help="The node's data dir (or give --config)."),
    config: Path | None = typer.Option(None, "--config", help="The node's TOML config."),
    genesis: Path | None = typer.Option(None, "--genesis", help="The genesis file, with DATA_DIR."),
    as_json: JsonOpt = False,
    clear_damage: bool = typer.Option(
        False, "--clear-damage", help="Remove the store's damage mark, only if the whole store checks clean."
    ),
) -> None:
    """Check a stopped node's whole store offline, every keyspace; record the check if it passes.

    Blocks (links, roots, certificates, results, app hash records), each height's state journal
    against its app hash, every state record against its journal, the transaction index, the
    last-signed record, the check record and pending evidence. Prints `store ok: N blocks
    checked`, or one `damaged at height H: KEYSPACE: …` line per damaged record and exits 1. A
    store the node marked damaged stays marked (its node refuses to start) until this command
    runs with --clear-damage and the store checks clean.
    """
    from node.main import check_store
    from ops.cli.common import fail

    where, chain = store_location(config, data_dir, genesis)
    report = check_store(where, chain, clear_damage=clear_damage)
    marked = None if report.marked is None else str(report.marked)
    if as_json:
        echo_json(
            {
                "store_ok": not report.findings,
                "data_dir": str(where),
                "blocks_checked": report.blocks,
                "damaged": [finding.line() for finding in report.findings],
                "marked_damaged": marked,
                "mark_cleared": report.cleared,
            }
        )
        if report.findings or marked is not None:
            raise typer.Exit(1)
        return
    for finding in report.findings:
        typer.echo(finding.line())
    if report.findings:
        fail(f"store damaged: {len(report.findings)} damaged record(s) in {report.blocks} blocks")
    typer.echo(f"store ok: {report.blocks} blocks checked")
    if report.cleared:
        typer.echo("damage mark removed: the node may start again")
    elif marked is not None:
        fail(
            f"the store checks clean but is marked damaged ({marked}); its node refuses to start"
            " until `votestore node check --clear-damage` removes the mark"
        )
