"""`votestore keys`: make and show Ed25519 key files."""

from __future__ import annotations

from pathlib import Path

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from votestore.errors import ConfigError
from votestore.keys import ROLES, new_signing_key, read_key_file, write_key_file

app = typer.Typer(
    help="Make and inspect Ed25519 key files (validators, admins, trustees, credential authority, "
    "identity provider).",
    no_args_is_help=True,
)


@app.command("gen")
def gen(
    out: Path = typer.Option(..., "--out", help="Key file to write (mode 0600; never overwritten)."),
    role: str | None = typer.Option(
        None,
        "--role",
        help=f"The role the key is for ({', '.join(ROLES)}); commands needing another role's key refuse it.",
    ),
) -> None:
    """Generate a key file and print its public key."""
    if role is not None and role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    key = new_signing_key()
    write_key_file(out, key, role=role)
    typer.echo(bytes(key.verify_key).hex())


@app.command("show")
def show(path: Path = typer.Argument(..., help="Key file."), as_json: JsonOpt = False) -> None:
    """Print the public key of a key file (never the secret)."""
    public = bytes(read_key_file(path).verify_key).hex()
    if as_json:
        echo_json({"file": str(path), "public_key": public})
    else:
        typer.echo(public)


tls_app = typer.Typer(
    help="TLS certificates bound to a validator's genesis key (see docs/admin.md).", no_args_is_help=True
)
app.add_typer(tls_app, name="tls")


@tls_app.command("issue")
def tls_issue(
    key: Path = typer.Option(..., "--key", help="The validator's genesis key file."),
    genesis: Path = typer.Option(..., "--genesis", help="The chain's genesis file."),
    out: str = typer.Option(
        ..., "--out", help="Path prefix: writes PREFIX.tls.key (0600), PREFIX.tls.pem, PREFIX.ca.pem."
    ),
) -> None:
    """Make a TLS key and certificate signed by the validator's genesis key, and its CA certificate.

    The node serves with PREFIX.tls.key and PREFIX.tls.pem; PREFIX.ca.pem is public and goes into
    the validator CA bundle (`votestore keys tls bundle`) that every node, gateway and verifier uses.
    """
    from votestore import tls
    from votestore.genesis import load_genesis

    chain = load_genesis(genesis)
    signing_key = read_key_file(key)
    index = next((v.index for v in chain.validators if v.public_key == bytes(signing_key.verify_key)), None)
    if index is None:
        fail(f"key file {key} is not one of the genesis validators")
    tls.write_identity(
        tls.issue(signing_key, chain.chain_id, index),
        Path(f"{out}.tls.key"),
        Path(f"{out}.tls.pem"),
        Path(f"{out}.ca.pem"),
    )
    typer.echo(f"validator {index}: {out}.tls.key {out}.tls.pem {out}.ca.pem")


@tls_app.command("bundle")
def tls_bundle(
    genesis: Path = typer.Option(..., "--genesis", help="The chain's genesis file."),
    out: Path = typer.Option(..., "--out", help="The bundle to write."),
    cas: list[Path] = typer.Argument(..., help="Every validator's PREFIX.ca.pem."),
) -> None:
    """Check each CA certificate against genesis and write them as one bundle."""
    from votestore import tls
    from votestore.genesis import load_genesis

    chain = load_genesis(genesis)
    try:
        out.write_bytes(b"".join(path.read_bytes() for path in cas))
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    try:
        tls.load_validator_cas(out, chain)
    except ConfigError:
        out.unlink()
        raise
    typer.echo(f"{out}: {chain.n} validator CA certificates")
