"""The `votestore` command's typer app: a module per command group.

`build(first)` imports only the group or command `first` names (`votestore roll import ...`
imports ops.cli.roll and what it needs, not the node, the notices or the demo): a party's one-shot
command starts in a third of the time. Without a known name (`votestore --help`, `--version`) it
builds every group.
"""

from __future__ import annotations

import importlib
from typing import Final

import typer

from votestore import version as build_info

GROUPS: Final = {
    "keys": "ops.cli.keys",
    "genesis": "ops.cli.genesis",
    "node": "ops.cli.node",
    "gateway": "ops.cli.gateway",
    "identity-provider": "ops.cli.identity",
    "receipt": "ops.cli.receipt",
    "ballot": "ops.cli.ballot",
    "election": "ops.cli.election",
    "roll": "ops.cli.roll",
    "trustee": "ops.cli.trustee",
    "notices": "ops.cli.notices",
    "web": "ops.cli.web",
}
"""Command groups: the module whose `app` each is."""
COMMANDS: Final = {
    "cast": ("ops.cli.cast", "cast"),
    "verify": ("ops.cli.verify", "verify"),
    "sim": ("ops.cli.sim", "sim"),
    "demo": ("ops.cli.demo", "demo"),
}
"""Single commands: module and function."""
VERIFY_GROUPS: Final = {
    "verifier": ("Follow all nodes continuously and report discrepancies.", "run", "verifier_run"),
    "ledger": ("Export a node's ledger to a file for offline checks.", "export", "ledger_export"),
}
"""Groups of one command each, from ops.cli.verify: help, command name, function."""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(build_info.describe())
        raise typer.Exit()


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


def build(first: str | None = None) -> typer.Typer:
    """The app with every group, or with only the one `first` names."""
    app = typer.Typer(
        help="votestore: a replicated vote store for public-sector online elections.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_root)
    known = first in GROUPS or first in COMMANDS or first in VERIFY_GROUPS
    for name, module in GROUPS.items():
        if not known or name == first:
            app.add_typer(importlib.import_module(module).app, name=name)
    for name, (module, function) in COMMANDS.items():
        if not known or name == first:
            app.command(name)(getattr(importlib.import_module(module), function))
    for name, (help_text, command, function) in VERIFY_GROUPS.items():
        if not known or name == first:
            group = typer.Typer(help=help_text, no_args_is_help=True)
            group.command(command)(getattr(importlib.import_module("ops.cli.verify"), function))
            app.add_typer(group, name=name)
    return app
