"""`votestore genesis`: assemble, check and fingerprint the chain's genesis file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Final

import typer

from ops.cli.common import JsonOpt, echo_json
from votestore.errors import ConfigError
from votestore.genesis import Genesis, Validator, load_genesis, parse_genesis
from votestore.keys import parse_public_key, read_public_key

app = typer.Typer(help="Assemble and check the genesis file every site starts from.", no_args_is_help=True)


SPEC: Final = "NAME=PUBKEY_HEX@PEER_HOST:PORT,API_HOST:PORT"


def _parse_validator(index: int, spec: str) -> Validator:
    """NAME=PUBKEY_HEX@PEER_HOST:PORT,API_HOST:PORT: sites hand over public keys and the two
    addresses (the peer port, the public API); secrets stay at the sites."""
    try:
        name, rest = spec.split("=", 1)
        key_hex, addresses = rest.split("@", 1)
        address, api_address = addresses.split(",")
    except ValueError:
        raise ConfigError(f"--validator '{spec}': expected {SPEC}") from None
    return Validator(index, name, parse_public_key(key_hex, f"validator {name}"), address, api_address)


@app.command("init")
def init(
    chain_id: str = typer.Option(..., help="Chain id, unique per election service deployment."),
    validator: list[str] = typer.Option(
        ..., help=f"{SPEC} (its peer port, then its public Node API), in order; at least 4."
    ),
    admin: list[str] = typer.Option(None, help="Admin public key (hex)."),
    admin_key: list[Path] = typer.Option(None, help="Admin key file (its public key is used)."),
    max_window_days: float = typer.Option(3.0, help="Longest voting window the chain allows (<= 5)."),
    out: Path = typer.Option(Path("genesis.json"), help="Where to write genesis."),
) -> None:
    """Write a genesis file from the sites' public keys and print its hash."""
    admins = [parse_public_key(a, "--admin") for a in admin or []]
    admins += [read_public_key(p) for p in admin_key or []]
    document = Genesis(
        chain_id=chain_id,
        genesis_time_ms=int(time.time() * 1000),
        validators=tuple(_parse_validator(i, spec) for i, spec in enumerate(validator)),
        admins=tuple(admins),
        max_window_ms=int(max_window_days * 24 * 3600 * 1000),
    ).to_json()
    # Round-trip through the parser so what we write is exactly what nodes will accept.
    genesis = parse_genesis(json.loads(document), "new genesis")
    out.write_text(genesis.to_json())
    typer.echo(genesis.hash().hex())


@app.command("hash")
def hash_(path: Path = typer.Argument(..., help="Genesis file."), as_json: JsonOpt = False) -> None:
    """Check a genesis file and print its hash, to compare across sites."""
    genesis = load_genesis(path)
    if as_json:
        echo_json(
            {"chain_id": genesis.chain_id, "genesis_hash": genesis.hash().hex(), "validators": genesis.n}
        )
    else:
        typer.echo(genesis.hash().hex())
