"""`votestore node`: run one validator."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Run a validator node.", no_args_is_help=True)


@app.command("run")
def run(config: Path = typer.Option(..., "--config", help="The node's TOML config.")) -> None:
    """Run one validator until SIGTERM: checks its store, joins its peers, serves its API."""
    from node.main import run_node  # the node's imports are heavy; other commands don't pay them

    run_node(config)
