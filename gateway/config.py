"""`gateway.toml`: where the gateway listens, what it trusts (genesis), and its limits.

Paths are relative to the config file's directory. Unknown keys are refused, so a typo in a limit
fails the start instead of silently running with the default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from votestore.encoding import MAX_TX_BYTES
from votestore.errors import ConfigError

MESSAGE_OVERHEAD_BYTES: Final = 4096
"""Room for the request envelope around the largest transaction a validator accepts."""


@dataclass(frozen=True, slots=True)
class Limits:
    client_requests_per_s: float = 50.0
    client_burst: float = 100.0
    voter_casts_per_minute: float = 6.0
    voter_cast_burst: float = 3.0
    identity_failures_per_hour: float = 5.0
    identity_failure_burst: float = 5.0
    max_message_bytes: int = MAX_TX_BYTES + MESSAGE_OVERHEAD_BYTES
    forward_deadline_s: float = 10.0
    max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) <= 0:
                raise ConfigError(f"limits.{item.name} must be positive")
        for name in ("client_burst", "voter_cast_burst", "identity_failure_burst"):
            if getattr(self, name) < 1:
                raise ConfigError(f"limits.{name} must be at least 1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    listen: str
    genesis: Path
    identity_store: Path | None = None
    """The credential authority's store of second-factor hashes, for the identity provider."""
    identity_provider_key: Path | None = None
    """The identity provider's signing key (`votestore keys new --kind identity-provider`), the key
    the election definition names: with the store, this gateway serves the identity provider's
    Attest step and assisted casting; without both, it refuses them."""
    tls: TlsFiles | None = None
    """The certificate the gateway shows its clients (none: plaintext to clients)."""
    validator_cas: Path | None = None
    """Every validator's CA certificate (`votestore keys tls bundle`): the gateway reaches each
    validator over TLS and accepts only that validator's genesis-bound certificate."""
    insecure_plaintext: bool = False
    """Plaintext to the validators instead; refused unless every genesis address is loopback."""
    metrics_port: int = 0
    """0 serves no metrics endpoint."""
    limits: Limits = field(default_factory=Limits)


_TOP_KEYS: Final = frozenset(
    {
        "listen",
        "genesis",
        "identity_store",
        "identity_provider_key",
        "tls",
        "validator_cas",
        "insecure_plaintext",
        "metrics_port",
        "limits",
    }
)


def _typed(table: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}: '{name}' has the wrong type")
    return value


def _limits(table: Any, where: str) -> Limits:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [limits] must be a table")
    known = {item.name: item for item in fields(Limits)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown limits {unknown}")
    values = {}
    for name in table:
        kind: type | tuple[type, ...] = int if name == "max_message_bytes" else (int, float)
        values[name] = _typed(table, name, kind, f"{where} [limits]")
    return Limits(**values)


def parse_config(document: dict[str, Any], base: Path, where: str) -> GatewayConfig:
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}")
    for required in ("listen", "genesis"):
        if required not in document:
            raise ConfigError(f"{where}: missing '{required}'")
    listen = _typed(document, "listen", str, where)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{where}: 'listen' must be host:port, got {listen!r}")
    tls = None
    if "tls" in document:
        table = document["tls"]
        if not isinstance(table, dict) or set(table) != {"cert", "key"}:
            raise ConfigError(f"{where}: [tls] needs exactly 'cert' and 'key'")
        tls = TlsFiles(
            cert=base / _typed(table, "cert", str, f"{where} [tls]"),
            key=base / _typed(table, "key", str, f"{where} [tls]"),
        )
    limits = _limits(document.get("limits", {}), where)
    cas = _typed(document, "validator_cas", str, where) if "validator_cas" in document else None
    plaintext = document.get("insecure_plaintext", False)
    if not isinstance(plaintext, bool):
        raise ConfigError(f"{where}: 'insecure_plaintext' must be true or false")
    if (cas is None) == (not plaintext):
        raise ConfigError(
            f"{where}: set exactly one of 'validator_cas' (TLS to the validators) and, "
            "on loopback only, 'insecure_plaintext = true'"
        )
    identity = document.get("identity_store")
    provider = document.get("identity_provider_key")
    if (identity is None) != (provider is None):
        raise ConfigError(f"{where}: set both 'identity_store' and 'identity_provider_key', or neither")
    metrics_port = _typed(document, "metrics_port", int, where) if "metrics_port" in document else 0
    if not 0 <= metrics_port <= 65535:
        raise ConfigError(f"{where}: 'metrics_port' must be 0..65535")
    return GatewayConfig(
        listen=listen,
        genesis=base / _typed(document, "genesis", str, where),
        identity_store=None if identity is None else base / _typed(document, "identity_store", str, where),
        identity_provider_key=(
            None if provider is None else base / _typed(document, "identity_provider_key", str, where)
        ),
        tls=tls,
        validator_cas=None if cas is None else base / cas,
        insecure_plaintext=plaintext,
        metrics_port=metrics_port,
        limits=limits,
    )


def load_config(path: Path) -> GatewayConfig:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} unreadable: {exc}") from None
    return parse_config(document, path.parent, str(path))
