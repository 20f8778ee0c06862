"""What every CLI command group shares: the one-line error edge, how a command that reads
validators reaches them (--validator-cas or --insecure-plaintext), and how it opens a key file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Final, NoReturn

import nacl.signing
import typer

from votestore.channels import ValidatorDialer
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.keys import KeyUnlock, passphrase_from, read_key_file

KEY_PASSPHRASE_FILE_ENV: Final = "VOTESTORE_KEY_PASSPHRASE_FILE"
KEY_PASSPHRASE_ENV: Final = "VOTESTORE_KEY_PASSPHRASE"

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


def _prompt() -> str:
    text: str = typer.prompt("Key passphrase", hide_input=True)
    return text


def read_key(path: Path, role: str | None = None) -> nacl.signing.SigningKey:
    """A key file an operator's command signs with (admin, credential authority, a validator's
    for `keys tls issue`). Sealed: the passphrase from the file $VOTESTORE_KEY_PASSPHRASE_FILE
    names, else $VOTESTORE_KEY_PASSPHRASE, else a prompt. Unsealed: opened without a word, so
    that every error stays one `error:` line (docs/admin.md asks for sealed keys; the node, which
    holds its key for years, is where an unsealed one needs an explicit setting)."""
    named = os.environ.get(KEY_PASSPHRASE_FILE_ENV)
    if named:
        source = passphrase_from(Path(named))
    elif os.environ.get(KEY_PASSPHRASE_ENV):
        source = passphrase_from(env=KEY_PASSPHRASE_ENV)
    else:
        source = _prompt
    unlock = KeyUnlock(
        passphrase=source,
        plaintext_ok=True,
        warn=False,
        where=f"set {KEY_PASSPHRASE_FILE_ENV} or {KEY_PASSPHRASE_ENV}, or answer the prompt",
    )
    return read_key_file(path, role, unlock=unlock)
