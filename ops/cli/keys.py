"""`votestore keys`: make, seal and show Ed25519 key files (votestore.keys)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from ops.cli.common import JsonOpt, echo_json, fail, read_key
from ops.cli.trustee import KDF_COSTS
from votestore.errors import ConfigError
from votestore.keys import (
    PLAINTEXT_QUIETLY,
    ROLES,
    KeyUnlock,
    is_sealed,
    new_signing_key,
    passphrase_from,
    read_key_file,
    read_public_key,
    write_key_file,
)

NEW_PASSPHRASE_ENV = "VOTESTORE_NEW_KEY_PASSPHRASE"
PassphraseFileOpt = typer.Option(
    None,
    "--passphrase-file",
    help=f"File holding the passphrase to seal with (else ${NEW_PASSPHRASE_ENV}, else a prompt).",
)
KdfOpt = typer.Option(
    "moderate", "--kdf", help="Argon2id cost: moderate (~1 s, 256 MiB) or interactive (tests)."
)


def _new_passphrase(path: Path | None) -> str:
    """The passphrase to seal a key with: the file, the environment, or a prompt asked twice."""
    source = passphrase_from(
        path, NEW_PASSPHRASE_ENV if path is None and os.environ.get(NEW_PASSPHRASE_ENV) else None
    )
    if source is not None:
        return source()
    text: str = typer.prompt("New key passphrase", hide_input=True, confirmation_prompt=True)
    if not text:
        raise ConfigError("the passphrase is empty")
    return text


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
    sealed: bool = typer.Option(
        False, "--sealed", help="Seal the seed under a passphrase (Argon2id); a node needs it sealed."
    ),
    passphrase_file: Path | None = PassphraseFileOpt,
    kdf: str = KdfOpt,
) -> None:
    """Generate a key file and print its public key."""
    if role is not None and role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    if kdf not in KDF_COSTS:
        fail(f"--kdf must be one of {', '.join(KDF_COSTS)}")
    if out.exists():
        fail(f"{out} exists; refusing to overwrite a key file")
    passphrase = _new_passphrase(passphrase_file) if sealed or passphrase_file is not None else None
    key = new_signing_key()
    write_key_file(out, key, role=role, passphrase=passphrase, limits=KDF_COSTS[kdf])
    typer.echo(bytes(key.verify_key).hex())


@app.command("seal")
def seal(
    path: Path = typer.Argument(..., help="An unsealed key file; rewritten sealed in place (mode 0600)."),
    passphrase_file: Path | None = PassphraseFileOpt,
    kdf: str = KdfOpt,
) -> None:
    """Seal an unsealed key file under a passphrase; print its public key."""
    if kdf not in KDF_COSTS:
        fail(f"--kdf must be one of {', '.join(KDF_COSTS)}")
    if is_sealed(path):
        fail(f"{path} is already sealed")
    key = read_key_file(path, unlock=PLAINTEXT_QUIETLY)
    role = json.loads(path.read_text()).get("role")
    if role is not None and role not in ROLES:
        fail(f"{path} names an unknown role {role!r}")
    passphrase = _new_passphrase(passphrase_file)
    staged = path.with_name(path.name + ".sealing")
    staged.unlink(missing_ok=True)
    write_key_file(staged, key, role=role, passphrase=passphrase, limits=KDF_COSTS[kdf])
    read_key_file(staged, unlock=KeyUnlock(passphrase=lambda: passphrase))  # opens before it replaces
    os.replace(staged, path)
    typer.echo(bytes(key.verify_key).hex())


@app.command("show")
def show(path: Path = typer.Argument(..., help="Key file."), as_json: JsonOpt = False) -> None:
    """Print the public key of a key file, sealed or not (never the secret; needs no passphrase)."""
    public = read_public_key(path).hex()
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
    signing_key = read_key(key)
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
