"""The key-file settings (`key_passphrase_file`, `key_passphrase_env`, `insecure_plaintext_key`)
are one definition, votestore.keys.SealedKey, with one set of rules and one way to open the key,
shared by node.toml, gateway.toml and identity-provider.toml (issue 22 review: they were written
three times, and the stand-alone identity provider's copy lacked both rules)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig, parse_config
from gateway.identity_server import ProviderConfig, load_provider_config
from node.config import NodeConfig, parse_node_config
from votestore.errors import ConfigError
from votestore.sealed_key import SealedKey

Reader = Callable[[Path, str, dict[str, Any]], SealedKey]


def _node(tmp_path: Path, host: str, settings: dict[str, Any]) -> SealedKey:
    document = {
        "key_file": "k.json",
        "genesis": "g.json",
        "listen": f"{host}:7000",
        "peer_listen": f"{host}:7002",
        "data_dir": "data",
        "tls": {"cert": "n.pem", "key": "n.key", "validator_cas": "cas.pem"},
        **settings,
    }
    return parse_node_config(document, tmp_path / "node.toml")


def _gateway(tmp_path: Path, host: str, settings: dict[str, Any]) -> SealedKey:
    document = {"listen": f"{host}:7100", "genesis": "g.json", "insecure_plaintext": True, **settings}
    return parse_config(document, tmp_path, "gateway.toml")


def _provider(tmp_path: Path, host: str, settings: dict[str, Any]) -> SealedKey:
    lines = [
        f'listen = "{host}:7200"',
        'genesis = "g.json"',
        'key = "k.json"',
        'store = "identity.store"',
        *(f"{name} = {_toml(value)}" for name, value in settings.items()),
        'tls = { cert = "idp.pem", key = "idp.key" }',
    ]
    path = tmp_path / "identity-provider.toml"
    path.write_text("\n".join(lines) + "\n")
    assert tomllib.loads(path.read_text())
    return load_provider_config(path)


def _toml(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'


READERS: dict[str, tuple[Reader, type[SealedKey]]] = {
    "node.toml": (_node, NodeConfig),
    "gateway.toml": (_gateway, GatewayConfig),
    "identity-provider.toml": (_provider, ProviderConfig),
}


@pytest.fixture(params=sorted(READERS))
def reader(request: pytest.FixtureRequest) -> tuple[Reader, type[SealedKey]]:
    return READERS[request.param]


def test_each_config_is_a_sealed_key_and_opens_it_the_same_way(
    tmp_path: Path, reader: tuple[Reader, type[SealedKey]]
) -> None:
    read, shape = reader
    assert issubclass(shape, SealedKey)
    (tmp_path / "pass").write_text("correct horse\n")
    config = read(tmp_path, "127.0.0.1", {"key_passphrase_file": "pass"})
    unlock = config.unlock("the config")
    assert unlock.passphrase is not None and unlock.passphrase() == "correct horse"
    assert not unlock.plaintext_ok
    assert unlock.where == "set key_passphrase_file or key_passphrase_env in the config"
    unsealed = read(tmp_path, "127.0.0.1", {"insecure_plaintext_key": True}).unlock("x")
    assert unsealed.plaintext_ok and unsealed.passphrase is None


def test_two_passphrase_sources_are_refused(tmp_path: Path, reader: tuple[Reader, type[SealedKey]]) -> None:
    read, _ = reader
    with pytest.raises(ConfigError, match="key_passphrase_file and key_passphrase_env exclude each other"):
        read(tmp_path, "127.0.0.1", {"key_passphrase_file": "pass", "key_passphrase_env": "PASS"})


def test_an_unsealed_key_is_refused_beside_a_listener_off_loopback(
    tmp_path: Path, reader: tuple[Reader, type[SealedKey]]
) -> None:
    read, _ = reader
    with pytest.raises(ConfigError, match="insecure_plaintext_key is for tests and demos on loopback only"):
        read(tmp_path, "0.0.0.0", {"insecure_plaintext_key": True})
