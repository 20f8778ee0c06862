"""The `votestore` command's typer app: a module per command group."""

from __future__ import annotations

import typer

from ops.cli import (
    cast,
    election,
    gateway,
    genesis,
    identity,
    keys,
    node,
    notices,
    receipt,
    roll,
    sim,
    trustee,
)
from ops.cli import demo as demo_cli
from ops.cli import verify as verify_cli
from votestore import version as build

app = typer.Typer(
    help="votestore: a replicated vote store for public-sector online elections.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(build.describe())
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version, source commit and protocol, then exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """votestore: a replicated vote store for public-sector online elections."""


app.add_typer(keys.app, name="keys")
app.add_typer(genesis.app, name="genesis")
app.add_typer(node.app, name="node")
app.add_typer(gateway.app, name="gateway")
app.add_typer(identity.app, name="identity-provider")
app.add_typer(receipt.app, name="receipt")
app.add_typer(election.app, name="election")
app.add_typer(roll.app, name="roll")
app.add_typer(trustee.app, name="trustee")
app.add_typer(notices.app, name="notices")
app.command("cast")(cast.cast)
app.command("verify")(verify_cli.verify)
app.command("sim")(sim.sim)
app.command("demo")(demo_cli.demo)


def _group(name: str, help_text: str) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


verifier_app = _group("verifier", "Follow all nodes continuously and report discrepancies.")
ledger_app = _group("ledger", "Export a node's ledger to a file for offline checks.")
verifier_app.command("run")(verify_cli.verifier_run)
ledger_app.command("export")(verify_cli.ledger_export)
