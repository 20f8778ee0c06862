"""What every CLI command group shares: the one-line error edge and the not-yet-built answer."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def unfinished(command: str, issue: int) -> NoReturn:
    """An unbuilt command says so and exits non-zero; it never pretends to have worked."""
    fail(f"'votestore {command}' is not built yet (tracked in issue {issue})", code=2)
