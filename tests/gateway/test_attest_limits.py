"""The identity step's limits are one table (gateway.limits.AttestLimits): the gateway's
`[limits]` and the stand-alone identity provider's read the same defaults and the same rates, so
a voter's second factor gets one guess budget wherever the step is served (issue 22 review: the
defaults were written twice)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import Limits, parse_config
from gateway.identity_server import ProviderConfig
from gateway.limits import AttestLimits, Rate
from votestore.config_file import parse
from votestore.errors import ConfigError

ATTEST_FIELDS = {f.name for f in dataclasses.fields(AttestLimits)}


def _gateway_limits(limits: dict[str, object]) -> Limits:
    document = {"listen": "127.0.0.1:0", "genesis": "g.json", "insecure_plaintext": True, "limits": limits}
    return parse_config(document, Path("/cfg"), "gateway.toml").limits


def _provider_limits(limits: dict[str, object]) -> AttestLimits:
    document = {"listen": "127.0.0.1:0", "genesis": "g.json", "key": "k.json", "store": "s", "limits": limits}
    return parse(ProviderConfig, document, "identity-provider.toml", base=Path("/cfg")).limits


def test_both_configs_read_the_one_table() -> None:
    gateway, provider = _gateway_limits({}), _provider_limits({})
    assert isinstance(gateway, AttestLimits) and type(provider) is AttestLimits
    assert {name: getattr(gateway, name) for name in ATTEST_FIELDS} == dataclasses.asdict(provider)
    assert gateway.identity_failure_rate() == provider.identity_failure_rate() == Rate(5.0, 5.0 / 3600.0)
    assert gateway.client_rate() == provider.client_rate() == Rate(100.0, 50.0)


@pytest.mark.parametrize("read", [_gateway_limits, _provider_limits])
def test_a_set_limit_is_taken_and_a_bad_one_refused_in_both(
    read: Callable[[dict[str, object]], AttestLimits],
) -> None:
    limits = read({"identity_failures_per_hour": 2.0, "identity_failure_burst": 1.0})
    assert limits.identity_failure_rate() == Rate(1.0, 2.0 / 3600.0)
    with pytest.raises(ConfigError, match="identity_failure_burst"):
        read({"identity_failure_burst": 0.5})
    with pytest.raises(ConfigError, match="unknown keys"):
        read({"identity_failures_per_day": 5.0})
