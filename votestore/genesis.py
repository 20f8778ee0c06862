"""The genesis file: the chain's fixed validator set, admin keys and policy.

Everyone — validators, gateway, verifier, a voter checking a receipt — starts from the same file;
its hash is compared across sites at the genesis ceremony.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from votestore.encoding import MAX_CHAIN_ID_BYTES
from votestore.errors import ConfigError
from votestore.hashing import sha256
from votestore.keys import parse_public_key

MIN_VALIDATORS: Final = 4
DAY_MS: Final = 24 * 3600 * 1000
DEFAULT_MAX_WINDOW_MS: Final = 3 * DAY_MS
HARD_MAX_WINDOW_MS: Final = 5 * DAY_MS


def quorum(validator_count: int) -> int:
    return (2 * validator_count) // 3 + 1


@dataclass(frozen=True, slots=True)
class Validator:
    index: int
    name: str
    public_key: bytes
    address: str
    """host:port of its peer port (`peer_listen`): the Peer service and catch-up's block fetch.
    Only the other validators dial it (node.toml's `peers` may override it per validator)."""
    api_address: str = ""
    """host:port of its public Node API (`listen`), what gateways, verifiers and the admin's
    commands dial; empty in a genesis made before the two ports were apart, whose `address`
    then serves the public API (docs/admin.md, "Two ports")."""

    @property
    def public_address(self) -> str:
        """Where a client (gateway, verifier, `votestore node status`) reaches the Node API."""
        return self.api_address or self.address


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Tendermint round timeouts, timeoutX(r) = X + r * delta, in milliseconds.

    Every one must be positive: with delta_ms = 0 the timeouts never grow, and after a period of
    slow messages the rounds may keep timing out before a quorum's votes arrive (the paper's
    liveness argument needs timeouts that eventually exceed the message delay)."""

    propose_ms: int = 3000
    prevote_ms: int = 1000
    precommit_ms: int = 1000
    delta_ms: int = 500

    def __post_init__(self) -> None:
        for name in ("propose_ms", "prevote_ms", "precommit_ms", "delta_ms"):
            if getattr(self, name) <= 0:
                why = " (timeouts that never grow: rounds may never end)" if name == "delta_ms" else ""
                raise ConfigError(f"timeouts.{name} must be a positive number of milliseconds{why}")


@dataclass(frozen=True, slots=True)
class Genesis:
    chain_id: str
    genesis_time_ms: int
    validators: tuple[Validator, ...]
    admins: tuple[bytes, ...]
    max_window_ms: int = DEFAULT_MAX_WINDOW_MS
    max_clock_drift_ms: int = 10_000
    timeouts: Timeouts = field(default_factory=Timeouts)

    @property
    def n(self) -> int:
        return len(self.validators)

    @property
    def f(self) -> int:
        return (self.n - 1) // 3

    @property
    def quorum(self) -> int:
        """More than two thirds: 2f+1 when n = 3f+1, and still safe for other n."""
        return quorum(self.n)

    def validator_keys(self) -> list[bytes]:
        return [v.public_key for v in self.validators]

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "validators": [_validator_json(v) for v in self.validators],
            "admins": [a.hex() for a in self.admins],
            "policy": {"max_window_ms": self.max_window_ms, "max_clock_drift_ms": self.max_clock_drift_ms},
            "timeouts": {name: getattr(self.timeouts, name) for name in Timeouts.__slots__},
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def hash(self) -> bytes:
        """Hash of the canonical JSON: what sites compare at the ceremony."""
        return sha256(self.to_json().encode())


def _validator_json(v: Validator) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "index": v.index,
        "name": v.name,
        "public_key": v.public_key.hex(),
        "address": v.address,
    }
    if v.api_address:  # absent, not empty: a genesis made before the split keeps its hash
        entry["api_address"] = v.api_address
    return entry


def _field(document: dict[str, Any], name: str, kind: type, where: str) -> Any:
    if name not in document:
        raise ConfigError(f"{where}: missing '{name}'")
    value = document[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{name}' must be {kind.__name__}")
    return value


def parse_genesis(document: Any, where: str = "genesis") -> Genesis:
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    chain_id = _field(document, "chain_id", str, where)
    if not 0 < len(chain_id.encode()) <= MAX_CHAIN_ID_BYTES:
        raise ConfigError(f"{where}: chain_id must be 1..{MAX_CHAIN_ID_BYTES} bytes")
    validators = []
    for position, entry in enumerate(_field(document, "validators", list, where)):
        at = f"{where}: validators[{position}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected an object")
        index = _field(entry, "index", int, at)
        if index != position:
            raise ConfigError(f"{at}: index {index} must equal its position {position}")
        validators.append(
            Validator(
                index=index,
                name=_field(entry, "name", str, at),
                public_key=parse_public_key(_field(entry, "public_key", str, at), at),
                address=_field(entry, "address", str, at),
                api_address=_field(entry, "api_address", str, at) if "api_address" in entry else "",
            )
        )
    for v in validators:
        if v.api_address == v.address:
            raise ConfigError(
                f"{where}: validators[{v.index}]: api_address and address are the same; the public "
                'API and the peer port are two ports (docs/admin.md, "Two ports")'
            )
    if len(validators) < MIN_VALIDATORS:
        raise ConfigError(f"{where}: needs at least {MIN_VALIDATORS} validators, has {len(validators)}")
    first_with: dict[bytes, Validator] = {}
    for validator in validators:
        twin = first_with.setdefault(validator.public_key, validator)
        if twin is not validator:
            raise ConfigError(
                f"{where}: validators {twin.index} ({twin.name}) and {validator.index} ({validator.name})"
                " share a public key: each validator needs its own key (votestore keys gen)"
            )
    admins = tuple(
        parse_public_key(a, f"{where}: admins[{i}]") if isinstance(a, str) else _bad(f"{where}: admins[{i}]")
        for i, a in enumerate(_field(document, "admins", list, where))
    )
    if not admins:
        raise ConfigError(f"{where}: needs at least one admin key")
    policy = document.get("policy", {})
    timeouts_doc = document.get("timeouts", {})
    if not isinstance(policy, dict) or not isinstance(timeouts_doc, dict):
        raise ConfigError(f"{where}: 'policy' and 'timeouts' must be objects")
    max_window = int(policy.get("max_window_ms", DEFAULT_MAX_WINDOW_MS))
    if not 0 < max_window <= HARD_MAX_WINDOW_MS:
        raise ConfigError(f"{where}: policy.max_window_ms must be in 1..{HARD_MAX_WINDOW_MS} (5 days)")
    unknown = set(timeouts_doc) - set(Timeouts.__slots__)
    if unknown:
        raise ConfigError(f"{where}: unknown timeouts {sorted(unknown)}")
    try:
        timeouts = Timeouts(**{k: _field(timeouts_doc, k, int, f"{where}: timeouts") for k in timeouts_doc})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=_field(document, "genesis_time_ms", int, where),
        validators=tuple(validators),
        admins=admins,
        max_window_ms=max_window,
        max_clock_drift_ms=int(policy.get("max_clock_drift_ms", 10_000)),
        timeouts=timeouts,
    )


def _bad(where: str) -> bytes:
    raise ConfigError(f"{where}: expected a hex string")


def load_genesis(path: Path) -> Genesis:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"genesis file {path} not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"genesis file {path} unreadable: {exc}") from None
    return parse_genesis(document, str(path))
