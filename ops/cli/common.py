"""What every CLI command group shares: the one-line error edge, and how a command that
reads validators reaches them (--validator-cas or --insecure-plaintext)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from votestore.channels import ValidatorDialer
from votestore.errors import VotestoreError
from votestore.genesis import Genesis

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as one JSON object, for scripts.")]
"""Every command that prints a report takes it (tests/cli/test_json_reports.py holds the list)."""


def echo_json(report: Mapping[str, object]) -> None:
    """One JSON object on one line of stdout; bytes are never in a report (hex them first)."""
    typer.echo(json.dumps(report, sort_keys=True))


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def validator_dialer(
    genesis: Genesis, nodes: Sequence[str], cas: Path | None, plaintext: bool
) -> ValidatorDialer:
    """Exactly one of a CA bundle and the explicit plaintext flag (loopback only); `nodes` as
    given on the command line ([INDEX=]HOST:PORT)."""
    if (cas is None) == (not plaintext):
        fail("give exactly one of --validator-cas (TLS) and --insecure-plaintext (loopback only)")
    try:
        if cas is not None:
            return ValidatorDialer.with_tls(genesis, cas)
        return ValidatorDialer.plaintext_to((n.rpartition("=")[2] for n in nodes), "--insecure-plaintext")
    except VotestoreError as exc:
        fail(str(exc))
