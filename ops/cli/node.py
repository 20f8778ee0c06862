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
) -> None:
    """Check a stopped node's whole store offline, from genesis; record the check if it passes.

    Every block's links and roots, its certificate, results and app hash record, and the
    application state's app hash. Prints `store ok: N blocks checked`, or one `error: store
    corrupted at height H: …` line and exits 1.
    """
    from node.main import check_store

    where, chain = store_location(config, data_dir, genesis)
    checked = check_store(where, chain)
    if as_json:
        echo_json({"store_ok": True, "data_dir": str(where), "blocks_checked": checked})
    else:
        typer.echo(f"store ok: {checked} blocks checked")
