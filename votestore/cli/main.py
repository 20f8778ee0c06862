"""The `votestore` command: one typer app, a module per command group."""

from __future__ import annotations

import sys

import typer

from votestore.cli import cast, gateway, genesis, keys, node, receipt, sim
from votestore.cli import verify as verify_cli
from votestore.cli.common import unfinished
from votestore.errors import VotestoreError

app = typer.Typer(
    help="votestore: a replicated vote store for public-sector online elections.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(keys.app, name="keys")
app.add_typer(genesis.app, name="genesis")
app.add_typer(node.app, name="node")
app.add_typer(gateway.app, name="gateway")
app.add_typer(receipt.app, name="receipt")
app.command("cast")(cast.cast)
app.command("verify")(verify_cli.verify)
app.command("sim")(sim.sim)


def _group(name: str, help_text: str) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


election_app = _group("election", "Create, open, close and show elections (admin).")
roll_app = _group("roll", "Import the voter roll (admin).")
trustee_app = _group("trustee", "Trustee key generation, dealing, complaints and decryption.")
verifier_app = _group("verifier", "Follow all nodes continuously and report discrepancies.")
ledger_app = _group("ledger", "Export a node's ledger to a file for offline checks.")
verifier_app.command("run")(verify_cli.verifier_run)
ledger_app.command("export")(verify_cli.ledger_export)


@election_app.command("create")
def election_create() -> None:
    """Create an election from a definition file."""
    unfinished("election create", 5)


@election_app.command("open")
def election_open() -> None:
    """Open an election whose key generation finished."""
    unfinished("election open", 5)


@election_app.command("close")
def election_close() -> None:
    """Close an election."""
    unfinished("election close", 5)


@election_app.command("show")
def election_show() -> None:
    """Show an election's phase, turnout and result."""
    unfinished("election show", 5)


@roll_app.command("import")
def roll_import() -> None:
    """Import a CSV roll: RollAppend transactions and a credential outbox."""
    unfinished("roll import", 5)


@trustee_app.command("keygen")
def trustee_keygen() -> None:
    """Make a trustee's signing and encryption keys, sealed under a passphrase."""
    unfinished("trustee keygen", 5)


@trustee_app.command("deal")
def trustee_deal() -> None:
    """Deal this trustee's shares for an election's key generation."""
    unfinished("trustee deal", 5)


@trustee_app.command("complain")
def trustee_complain() -> None:
    """Publish evidence that a dealt share is wrong."""
    unfinished("trustee complain", 5)


@trustee_app.command("decrypt")
def trustee_decrypt() -> None:
    """Publish this trustee's decryption share of the closed tally."""
    unfinished("trustee decrypt", 5)


@app.command("demo")
def demo() -> None:
    """Run a whole test election on a local 4-node cluster."""
    unfinished("demo", 8)


def main() -> None:
    """Console entry: errors we raise on purpose become one line and a non-zero exit."""
    try:
        app()
    except VotestoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
