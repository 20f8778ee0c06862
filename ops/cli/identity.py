"""`votestore identity-provider run --config identity-provider.toml`: the identity provider's
own process (gateway/identity_server.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from gateway.identity_server import load_provider_config
from gateway.identity_server import run as run_provider
from ops.cli.common import fail
from votestore.errors import VotestoreError

app = typer.Typer(help="Run the identity provider (identity checks, attestations).", no_args_is_help=True)


@app.command("run")
def run(
    config: Path = typer.Option(..., "--config", help="Identity provider TOML config (docs/roles.md)."),
) -> None:
    """Run the identity provider until SIGINT or SIGTERM."""
    try:
        run_provider(load_provider_config(config))
    except VotestoreError as exc:
        fail(str(exc))
