"""A stand-in for the `votestore` entry until votestore/cli/main.py registers these groups: the
same three typer apps under the same names, run as `python -m tests.cli.app ...` in a subprocess
exactly as a user runs `votestore ...`. Once main.py is wired, tests switch to `-m votestore`."""

from __future__ import annotations

import typer

from votestore.cli import election, roll, trustee

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
app.add_typer(election.app, name="election")
app.add_typer(roll.app, name="roll")
app.add_typer(trustee.app, name="trustee")

if __name__ == "__main__":
    app()
