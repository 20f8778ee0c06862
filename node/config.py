"""A validator's TOML config: who it is, where its genesis and data live, where it listens.

Every mistake is reported as one ConfigError line naming the file and the key (votestore.config_file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import Field

from votestore.config_file import (
    Flag,
    HostPort,
    NonEmptyStr,
    NonNegativeInt,
    Port,
    RelativePath,
    parse,
    read_toml,
    table,
)
from votestore.errors import ConfigError
from votestore.netaddr import is_local_only
from votestore.sealed_key import SealedKey

DEFAULT_MEMPOOL_MAX_TXS: Final = 100_000
DEFAULT_MEMPOOL_MAX_BYTES: Final = 256 * 1024 * 1024
DEFAULT_BLOCK_MAX_TXS: Final = 5_000
DEFAULT_BLOCK_MAX_BYTES: Final = 8 * 1024 * 1024
DEFAULT_EMPTY_BLOCK_INTERVAL_MS: Final = 1_000
DEFAULT_BATCH_WAIT_MS: Final = 50
DEFAULT_AMNESIA_WATCH_HEIGHTS: Final = 3  # node/amnesia.py; 0 turns the guard off


@table
@dataclass(frozen=True, slots=True)
class NodeTls:
    """The node's TLS files: `votestore keys tls issue` makes cert and key, `... bundle` the CAs."""

    cert: RelativePath  # the TLS certificate, then this validator's CA certificate
    key: RelativePath
    validator_cas: RelativePath  # every validator's CA certificate: whom peer links and catch-up trust


@table
@dataclass(frozen=True, slots=True)
class NodeConfig(SealedKey):
    """`node.toml` as read (`votestore.config_file`): paths relative to the file's directory.
    The key file's passphrase settings are `SealedKey`'s."""

    key_file: RelativePath
    genesis: RelativePath
    listen: HostPort
    """The public Node API (Submit*, Get*, WatchCommits): gateways, verifiers, the admin's commands."""
    data_dir: RelativePath
    peer_listen: HostPort | None = None
    """The peer port (Peer.Connect, catch-up's block fetch): the other validators only; genesis
    names it as this validator's `address`. Required: None is refused with what to add."""
    metrics_port: Port = 0  # 0: no metrics endpoint
    health_port: Port = 0
    """gRPC health alone, in plaintext, for probes that speak no TLS (Kubernetes'); 0: none."""
    peers: dict[Annotated[int, Field(ge=0)], NonEmptyStr] = field(default_factory=dict)
    """Overrides of genesis addresses, by validator index."""
    mempool_max_txs: NonNegativeInt = DEFAULT_MEMPOOL_MAX_TXS
    mempool_max_bytes: NonNegativeInt = DEFAULT_MEMPOOL_MAX_BYTES
    block_max_txs: NonNegativeInt = DEFAULT_BLOCK_MAX_TXS
    block_max_bytes: NonNegativeInt = DEFAULT_BLOCK_MAX_BYTES
    empty_block_interval_ms: NonNegativeInt = DEFAULT_EMPTY_BLOCK_INTERVAL_MS
    batch_wait_ms: NonNegativeInt = DEFAULT_BATCH_WAIT_MS
    verify_workers: NonNegativeInt | None = None
    """Proof-checking processes; None: one per core; 0: checks in the loop."""
    log_level: NonEmptyStr = "INFO"
    tls: NodeTls | None = None
    insecure_plaintext: Flag = False  # loopback only; exactly one of this and `tls`
    backup_dir: RelativePath | None = None
    """Where the running node writes a backup of its store when sent SIGUSR1
    (node/backup_on_request.py); None: the signal is refused with a log line (stop the node and use
    `node backup`)."""
    amnesia_watch_heights: NonNegativeInt = DEFAULT_AMNESIA_WATCH_HEIGHTS
    """Heights a validator without its last-signed record watches before signing (node/amnesia.py); 0: off."""

    @property
    def peer_address(self) -> str:
        """`peer_listen`, which parsing has made sure is set."""
        assert self.peer_listen is not None
        return self.peer_listen

    @property
    def workers(self) -> int:
        # The cores this process may run on (a container's CPU set), not the host's count.
        return len(os.sched_getaffinity(0)) if self.verify_workers is None else self.verify_workers


def load_node_config(path: Path) -> NodeConfig:
    return parse_node_config(read_toml(path), path)


def parse_node_config(document: dict[str, Any], path: Path) -> NodeConfig:
    config = parse(NodeConfig, document, path, base=path.parent)
    _check_ports(config, path)
    _check_transport(config, path)
    config.check_key_settings(path, {"listen": config.listen, "peer_listen": config.peer_listen})
    return config


def _check_ports(config: NodeConfig, path: Path) -> None:
    """Two listeners, so that opening the public API to observers never opens the peer port."""
    if config.peer_listen is None:
        raise ConfigError(
            f"{path}: no peer_listen: peer traffic has its own port; add "
            'peer_listen = "HOST:PORT" (the address genesis names for this validator) and keep '
            'listen for the public Node API (docs/admin.md, "Two ports")'
        )
    if config.peer_listen == config.listen:
        raise ConfigError(
            f"{path}: peer_listen and listen are both {config.listen!r}; give each its own port"
        )


def _check_transport(config: NodeConfig, path: Path) -> None:
    """Exactly one of a [tls] table and `insecure_plaintext = true`, the latter on loopback only."""
    if config.tls is not None:
        if config.insecure_plaintext:
            raise ConfigError(f"{path}: [tls] and insecure_plaintext = true exclude each other")
        return
    if not config.insecure_plaintext:
        raise ConfigError(
            f"{path}: needs a [tls] table (cert, key, validator_cas) or, on loopback only, "
            "insecure_plaintext = true"
        )
    for name, address in (("listen", config.listen), ("peer_listen", config.peer_listen)):
        if address is not None and not is_local_only(address):
            raise ConfigError(
                f"{path}: insecure_plaintext is for loopback (or 198.18.0.0/15, a test network) only; "
                f"{name} = {address!r} is not"
            )
