"""`votestore gateway run --config gateway.toml`: the ballot intake service."""

from __future__ import annotations

from pathlib import Path

import typer

from gateway.config import load_config
from gateway.server import run as run_gateway
from ops.cli.common import fail
from votestore.errors import VotestoreError

app = typer.Typer(help="Run the ballot intake gateway.", no_args_is_help=True)


@app.command("run")
def run(
    config: Path = typer.Option(..., "--config", help="Gateway TOML config (see docs/gateway.md)."),
) -> None:
    """Run the gateway until SIGINT or SIGTERM."""
    try:
        run_gateway(load_config(config))
    except VotestoreError as exc:
        fail(str(exc))
