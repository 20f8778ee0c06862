"""A validator's TOML config: who it is, where its genesis and data live, where it listens.

Every mistake is reported as one ConfigError line naming the file and the field.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from votestore.errors import ConfigError
from votestore.netaddr import is_local_only

DEFAULT_MEMPOOL_MAX_TXS: Final = 100_000
DEFAULT_MEMPOOL_MAX_BYTES: Final = 256 * 1024 * 1024
DEFAULT_BLOCK_MAX_TXS: Final = 5_000
DEFAULT_BLOCK_MAX_BYTES: Final = 8 * 1024 * 1024
DEFAULT_EMPTY_BLOCK_INTERVAL_MS: Final = 1_000
DEFAULT_BATCH_WAIT_MS: Final = 50


@dataclass(frozen=True, slots=True)
class NodeTls:
    """The node's TLS files: `votestore keys tls issue` makes cert and key, `... bundle` the CAs."""

    cert: Path  # the TLS certificate, then this validator's CA certificate
    key: Path
    validator_cas: Path  # every validator's CA certificate: whom peer links and catch-up trust


@dataclass(frozen=True, slots=True)
class NodeConfig:
    key_file: Path
    genesis: Path
    listen: str
    data_dir: Path
    metrics_port: int = 0  # 0: no metrics endpoint
    peers: dict[int, str] = field(default_factory=dict)  # overrides genesis addresses, by index
    mempool_max_txs: int = DEFAULT_MEMPOOL_MAX_TXS
    mempool_max_bytes: int = DEFAULT_MEMPOOL_MAX_BYTES
    block_max_txs: int = DEFAULT_BLOCK_MAX_TXS
    block_max_bytes: int = DEFAULT_BLOCK_MAX_BYTES
    empty_block_interval_ms: int = DEFAULT_EMPTY_BLOCK_INTERVAL_MS
    batch_wait_ms: int = DEFAULT_BATCH_WAIT_MS
    verify_workers: int | None = None  # proof-checking processes; None: one per core; 0: in the loop
    log_level: str = "INFO"
    tls: NodeTls | None = None
    insecure_plaintext: bool = False  # loopback only; exactly one of this and `tls`

    @property
    def workers(self) -> int:
        # The cores this process may run on (a container's CPU set), not the host's count.
        return len(os.sched_getaffinity(0)) if self.verify_workers is None else self.verify_workers


_INT_FIELDS: Final = (
    "metrics_port",
    "mempool_max_txs",
    "mempool_max_bytes",
    "block_max_txs",
    "block_max_bytes",
    "empty_block_interval_ms",
    "batch_wait_ms",
    "verify_workers",
)


def load_node_config(path: Path) -> NodeConfig:
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    return parse_node_config(document, path)


def parse_node_config(document: dict[str, Any], path: Path) -> NodeConfig:
    base = path.parent

    def text(name: str) -> str:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: '{name}' must be a non-empty string")
        return value

    def where(name: str) -> Path:
        candidate = Path(text(name))
        return candidate if candidate.is_absolute() else base / candidate

    known = {"key_file", "genesis", "listen", "data_dir", "peers", "log_level", "tls", "insecure_plaintext"}
    known |= set(_INT_FIELDS)
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}")
    numbers: dict[str, int] = {}
    for name in _INT_FIELDS:
        if name in document:
            value = document[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{path}: '{name}' must be a non-negative integer")
            numbers[name] = value
    peers_doc = document.get("peers", {})
    if not isinstance(peers_doc, dict):
        raise ConfigError(f"{path}: 'peers' must be a table of index = \"host:port\"")
    peers: dict[int, str] = {}
    for key, value in peers_doc.items():
        if not key.isdigit() or not isinstance(value, str):
            raise ConfigError(f'{path}: peers.{key} must map a validator index to "host:port"')
        peers[int(key)] = value
    listen = text("listen")
    if ":" not in listen:
        raise ConfigError(f"{path}: 'listen' must be host:port")
    tls, insecure_plaintext = _transport(document, path, listen)
    return NodeConfig(
        key_file=where("key_file"),
        genesis=where("genesis"),
        listen=listen,
        data_dir=where("data_dir"),
        peers=peers,
        log_level=str(document.get("log_level", "INFO")),
        tls=tls,
        insecure_plaintext=insecure_plaintext,
        **numbers,
    )


def _transport(document: dict[str, Any], path: Path, listen: str) -> tuple[NodeTls | None, bool]:
    """Exactly one of a [tls] table and `insecure_plaintext = true`, the latter on loopback only."""
    plaintext = document.get("insecure_plaintext", False)
    if not isinstance(plaintext, bool):
        raise ConfigError(f"{path}: 'insecure_plaintext' must be true or false")
    table = document.get("tls")
    if table is None:
        if not plaintext:
            raise ConfigError(
                f"{path}: needs a [tls] table (cert, key, validator_cas) or, on loopback only, "
                "insecure_plaintext = true"
            )
        if not is_local_only(listen):
            raise ConfigError(
                f"{path}: insecure_plaintext is for loopback (or 198.18.0.0/15, a test network) only; "
                f"listen = {listen!r} is not"
            )
        return None, True
    if plaintext:
        raise ConfigError(f"{path}: [tls] and insecure_plaintext = true exclude each other")
    names = ("cert", "key", "validator_cas")
    if (
        not isinstance(table, dict)
        or set(table) != set(names)
        or not all(isinstance(table[n], str) for n in names)
    ):
        raise ConfigError(f"{path}: [tls] needs exactly 'cert', 'key' and 'validator_cas' (paths)")
    base = path.parent
    cert, key, cas = ((base / table[n]) for n in names)  # an absolute path stays absolute
    return NodeTls(cert=cert, key=key, validator_cas=cas), False
