"""`gateway.toml`: where the gateway listens, what it trusts (genesis), and its limits.

Read by the one typed reader (votestore.config_file): paths are relative to the config file's
directory; unknown keys are refused, so a typo in a limit fails the start instead of silently
running with the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.limits import AttestLimits
from votestore.config_file import (
    AtLeastOne,
    Flag,
    HostPort,
    NonEmptyStr,
    Port,
    PositiveInt,
    PositiveNumber,
    RelativePath,
    parse,
    read_toml,
    table,
)
from votestore.errors import ConfigError
from votestore.limits import GATEWAY_REQUEST_BYTES
from votestore.sealed_key import SealedKey


@table
@dataclass(frozen=True, slots=True)
class Limits(AttestLimits):
    """The gateway's `[limits]`: the identity step's (gateway.limits.AttestLimits) and its own."""

    voter_casts_per_minute: PositiveNumber = 6.0
    voter_cast_burst: AtLeastOne = 3.0
    max_message_bytes: PositiveInt = GATEWAY_REQUEST_BYTES
    forward_deadline_s: PositiveNumber = 10.0
    max_wait_s: PositiveNumber = 60.0


@table
@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: RelativePath
    key: RelativePath


@table
@dataclass(frozen=True, slots=True)
class WebBridge:
    """The browser's way in (docs/web.md): the Gateway and IdentityProvider services over gRPC-Web
    on a port of their own, answering cross-origin calls from `app_origin` only."""

    listen: HostPort
    app_origin: NonEmptyStr
    """The one origin (scheme://host[:port]) whose pages may call the bridge (CORS). The page
    itself comes from that origin, served apart from the gateway (`votestore web serve`)."""


@table
@dataclass(frozen=True, slots=True)
class GatewayConfig(SealedKey):
    """`gateway.toml` as read; the identity-provider key's passphrase settings are `SealedKey`'s."""

    listen: HostPort
    genesis: RelativePath
    identity_store: RelativePath | None = None
    """The credential authority's store of second-factor hashes, for the identity provider."""
    identity_provider_key: RelativePath | None = None
    """The identity provider's signing key (`votestore keys new --kind identity-provider`), the key
    the election definition names: with the store, this gateway serves the identity provider's
    Attest step and assisted casting; without both, it refuses them."""
    identity_provider: HostPort | None = None
    """Where the identity provider runs as a process of its own (`votestore identity-provider
    run`): assisted casting asks it, as a voter's device does, and this gateway holds no provider
    key or store. Instead of `identity_store` and `identity_provider_key`."""
    identity_provider_ca: RelativePath | None = None
    """The identity provider's CA certificate (TLS to it); without it, plaintext, loopback only."""
    tls: TlsFiles | None = None
    """The certificate the gateway shows its clients (none: plaintext to clients)."""
    validator_cas: RelativePath | None = None
    """Every validator's CA certificate (`votestore keys tls bundle`): the gateway reaches each
    validator over TLS and accepts only that validator's genesis-bound certificate."""
    insecure_plaintext: Flag = False
    """Plaintext to the validators instead; refused unless every genesis address is loopback."""
    metrics_port: Port = 0
    """0 serves no metrics endpoint."""
    health_port: Port = 0
    """gRPC health alone, in plaintext, for probes that speak no TLS (Kubernetes'); 0: none."""
    limits: Limits = field(default_factory=Limits)
    web: WebBridge | None = None
    """The gRPC-Web bridge for the voter page; none: gRPC only."""


def parse_config(document: dict[str, Any], base: Path, where: str) -> GatewayConfig:
    config = parse(GatewayConfig, document, where, base=base)
    if (config.validator_cas is None) == (not config.insecure_plaintext):
        raise ConfigError(
            f"{where}: set exactly one of 'validator_cas' (TLS to the validators) and, "
            "on loopback only, 'insecure_plaintext = true'"
        )
    config.check_key_settings(where, {"listen": config.listen})
    if (config.identity_store is None) != (config.identity_provider_key is None):
        raise ConfigError(f"{where}: set both 'identity_store' and 'identity_provider_key', or neither")
    if config.identity_provider is not None and config.identity_store is not None:
        raise ConfigError(
            f"{where}: 'identity_provider' (served apart) or 'identity_store' with "
            "'identity_provider_key' (served here), not both"
        )
    if config.identity_provider_ca is not None and config.identity_provider is None:
        raise ConfigError(f"{where}: 'identity_provider_ca' without 'identity_provider'")
    return config


def load_config(path: Path) -> GatewayConfig:
    return parse_config(read_toml(path), path.parent, str(path))
