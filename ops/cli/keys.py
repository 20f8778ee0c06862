"""`votestore keys`: make and show Ed25519 key files."""

from __future__ import annotations

from pathlib import Path

import typer

from votestore.keys import new_signing_key, read_key_file, write_key_file

app = typer.Typer(
    help="Make and inspect Ed25519 key files (validators, admins, trustees).", no_args_is_help=True
)


@app.command("gen")
def gen(
    out: Path = typer.Option(..., "--out", help="Key file to write (mode 0600; never overwritten)."),
) -> None:
    """Generate a key file and print its public key."""
    key = new_signing_key()
    write_key_file(out, key)
    typer.echo(bytes(key.verify_key).hex())


@app.command("show")
def show(path: Path = typer.Argument(..., help="Key file.")) -> None:
    """Print the public key of a key file (never the secret)."""
    typer.echo(bytes(read_key_file(path).verify_key).hex())
