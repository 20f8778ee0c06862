"""The `votestore` console entry."""

from __future__ import annotations

import sys
from typing import Any

import typer

from votestore.errors import VotestoreError


def _usage_error(exc: typer.TyperException) -> int:
    """One line for typer's usage errors (typer vendors click and exports only their common base,
    so the parts are read by duck typing): the message, and the --help to read next."""
    ctx: Any = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())  # a group called bare: its help, as `no_args_is_help` means
        return 0
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    hint = "" if ctx is None else f" (see '{ctx.command_path} --help')"
    sys.stderr.write(f"error: {message}{hint}\n")
    code: int = getattr(exc, "exit_code", 2)
    return code


def main() -> None:
    """Every error is one `error:` line and a non-zero exit: errors we raise on purpose (exit 1;
    that includes a missing libdecaf, found while the commands' modules are imported, hence the
    import in here) and typer's usage errors (exit 2), instead of a multi-line box."""
    try:
        from ops.cli.app import build

        code = build(sys.argv[1] if len(sys.argv) > 1 else None)(standalone_mode=False)
    except VotestoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    except typer.Abort:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except typer.TyperException as exc:
        sys.exit(_usage_error(exc))
    sys.exit(code if isinstance(code, int) else 0)
