"""`votestore node init`: a new validator's key and a commented node.toml naming every option, its
default and its unit — what an operator edits, instead of reading the code for the options.

The defaults are read from `node.config.NodeConfig` itself, and every option must have a line in
OPTIONS (a test holds them together), so the file can never list a default the node does not use.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Final

import typer

from node.config import NodeConfig, load_node_config
from votestore.errors import ConfigError
from votestore.keys import new_signing_key, passphrase_from, write_key_file
from votestore.netaddr import is_local_only

OPTIONAL: Final = {
    "metrics_port": "TCP port of the Prometheus /metrics endpoint, on the listen address's host; 0: none",
    "health_port": "TCP port of a plaintext gRPC health endpoint (health only), for probes; 0: none",
    "peers": 'a table `index = "host:port"`: reach these validators at another address than genesis names',
    "mempool_max_txs": "transactions the mempool holds at most",
    "mempool_max_bytes": "bytes the mempool holds at most",
    "block_max_txs": "transactions a block this validator proposes holds at most",
    "block_max_bytes": "bytes of transactions a block this validator proposes holds at most",
    "empty_block_interval_ms": "milliseconds between blocks when there is nothing to commit",
    "batch_wait_ms": "milliseconds the proposer waits to fill a block once a transaction is pending",
    "verify_workers": "processes checking ballot proofs; 0: in the loop (default unset: one per core)",
    "log_level": "DEBUG, INFO, WARNING, ERROR or CRITICAL (per module: VOTESTORE_LOG_LEVELS, docs/admin.md)",
    "backup_dir": "directory where the running node writes a backup of its store when sent SIGUSR1"
    " (docs/day2.md); unset: the signal is refused with a log line",
    "amnesia_watch_heights": "heights a validator without its last-signed record follows, watching for its"
    " own key's signatures, before it signs; 0: off (a warning at start)",
}
"""Every NodeConfig option an operator may leave out, with what it means and its unit."""
EXAMPLES: Final = {"verify_workers": 2, "backup_dir": "backups"}
"""What to show for an option whose default is unset."""
REQUIRED: Final = (
    "key_file",
    "genesis",
    "listen",
    "peer_listen",
    "data_dir",
    "tls",
    "insecure_plaintext",
    "key_passphrase_file",
    "key_passphrase_env",
    "insecure_plaintext_key",
)
"""Written (or, for the exclusive alternatives, explained) by `render` itself."""
PEER_PORT: Final = 7002
"""The peer port `--peer-listen` defaults to, on the `--listen` host (the public API's is 7000)."""


def _default(name: str) -> object:
    for f in dataclasses.fields(NodeConfig):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
    raise KeyError(name)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{}"
    return f"{value:_}" if isinstance(value, int) else str(value)


def render(listen: str, peer_listen: str, genesis: str, plaintext: bool, passphrase_file: str | None) -> str:
    key_lines = (
        [
            "# the key file is unsealed: tests and demos on loopback only (a warning at every start)",
            "insecure_plaintext_key = true",
        ]
        if passphrase_file is None
        else [
            "# the file holding the key file's passphrase (Argon2id-sealed; `votestore keys seal`);",
            "# instead, key_passphrase_env may name an environment variable that holds it",
            f'key_passphrase_file = "{passphrase_file}"',
        ]
    )
    lines = [
        "# A votestore validator's config (votestore node init). Paths are relative to this file.",
        "",
        "# this validator's signing key (its public key goes into genesis)",
        'key_file = "node.key.json"',
        *key_lines,
        "# the chain's genesis file, from the ceremony",
        f'genesis = "{genesis}"',
        "# host:port of the public Node API (gateways, verifiers, the admin's commands; genesis",
        "# names it as this validator's api_address)",
        f'listen = "{listen}"',
        "# host:port of the peer port (Peer.Connect, catch-up): open it to the other validators only;",
        "# genesis names it as this validator's address",
        f'peer_listen = "{peer_listen}"',
        "# the LevelDB store; one node per data dir",
        'data_dir = "data"',
        "",
    ]
    if plaintext:
        lines += [
            "# Plaintext links: loopback (or 198.18.0.0/15, a test network) only.",
            "insecure_plaintext = true",
        ]
    else:
        lines += [
            "# TLS bound to the genesis keys: `votestore keys tls issue --key node.key.json --genesis",
            "# genesis.json --out node` makes node.tls.pem and node.tls.key; `votestore keys tls bundle`",
            "# makes validators.ca.pem from every validator's CA certificate.",
            'tls = { cert = "node.tls.pem", key = "node.tls.key", validator_cas = "validators.ca.pem" }',
        ]
    lines += ["", "# Optional: each line shows the default; uncomment to change it."]
    for name, meaning in OPTIONAL.items():
        default = _default(name)
        lines.append(f"# {meaning}")
        lines.append(f"# {name} = {_toml(default if default is not None else EXAMPLES[name])}")
    return "\n".join(lines) + "\n"


def init(
    directory: Annotated[Path, typer.Argument(help="Where to write node.key.json and node.toml (created).")],
    listen: Annotated[
        str, typer.Option("--listen", help="host:port of the public Node API.")
    ] = "0.0.0.0:7000",
    peer_listen: Annotated[
        str | None,
        typer.Option(
            "--peer-listen",
            help="host:port of the peer port, for the other validators only "
            f"[default: the --listen host, port {PEER_PORT}].",
        ),
    ] = None,
    genesis: Annotated[
        str, typer.Option("--genesis", help="The genesis file's path, from the directory.")
    ] = ("genesis.json"),
    insecure_plaintext: Annotated[
        bool,
        typer.Option(
            "--insecure-plaintext", help="Plaintext links and an unsealed key (loopback --listen only)."
        ),
    ] = False,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="File holding the passphrase to seal the key with (node.toml's key_passphrase_file).",
        ),
    ] = None,
) -> None:
    """Make a validator's key and a commented node.toml listing every option with its default and
    unit; print the public key for the genesis ceremony. Refuses to overwrite either file."""
    peer = peer_listen if peer_listen is not None else f"{listen.rpartition(':')[0]}:{PEER_PORT}"
    for address in (listen, peer):
        if insecure_plaintext and not is_local_only(address):
            raise ConfigError(f"--insecure-plaintext is for loopback addresses only; {address} is not")
    if (passphrase_file is None) == (not insecure_plaintext):
        raise ConfigError(
            "give --passphrase-file (the key is sealed under it) or, on loopback only, --insecure-plaintext"
        )
    config, key_file = directory / "node.toml", directory / "node.key.json"
    for path in (config, key_file):
        if path.exists():
            raise ConfigError(f"{path} exists: node init never overwrites a config or a key")
    directory.mkdir(parents=True, exist_ok=True)
    key = new_signing_key()
    passphrase = None if passphrase_file is None else passphrase_from(passphrase_file)
    write_key_file(key_file, key, passphrase=None if passphrase is None else passphrase())
    secret_file = None if passphrase_file is None else str(passphrase_file.resolve())
    config.write_text(render(listen, peer, genesis, insecure_plaintext, secret_file))
    typer.echo(f"wrote {key_file} and {config}")
    typer.echo(f"public key (for genesis): {bytes(key.verify_key).hex()}")


def check_rendered(path: Path) -> NodeConfig:
    """The written file as the node reads it (tests; genesis and TLS files need not exist)."""
    return load_node_config(path)
