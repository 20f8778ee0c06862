"""The one typed config reader: node.toml and gateway.toml refuse an unknown key, a wrong type and
a missing required key with one line naming the file, the key and what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import load_config
from node.config import load_node_config
from votestore.errors import ConfigError

NODE = """key_file = "node0.key.json"
genesis = "genesis.json"
listen = "127.0.0.1:7000"
peer_listen = "127.0.0.1:7002"
data_dir = "data"
insecure_plaintext = true
"""
GATEWAY = """listen = "127.0.0.1:8000"
genesis = "genesis.json"
insecure_plaintext = true
[limits]
client_burst = 10
"""
Loader = Callable[[Path], object]
READERS: dict[str, tuple[str, Loader]] = {"node": (NODE, load_node_config), "gateway": (GATEWAY, load_config)}

CASES = [
    ("node", "unknown key", lambda t: t + "colour = 3\n", "unknown keys ['colour']"),
    ("node", "wrong type", lambda t: t + "metrics_port = '9100'\n", "metrics_port must be an integer"),
    ("node", "bool for a number", lambda t: t + "batch_wait_ms = true\n", "batch_wait_ms must be an integer"),
    ("node", "missing required", lambda t: t.replace('data_dir = "data"\n', ""), "missing key 'data_dir'"),
    ("node", "out of range", lambda t: t + "metrics_port = 70000\n", "metrics_port must be at most 65535"),
    ("node", "nested unknown", lambda t: t + '[peers]\nx = "h:1"\n', "peers.x must be an integer"),
    (
        "gateway",
        "unknown key",
        lambda t: t.replace("[limits]", "lisen = 1\n[limits]"),
        "unknown keys ['lisen']",
    ),
    ("gateway", "nested unknown", lambda t: t + "burst = 2\n", "unknown keys ['limits.burst']"),
    ("gateway", "wrong type", lambda t: t.replace("= 10", '= "10"'), "limits.client_burst must be a number"),
    (
        "gateway",
        "missing required",
        lambda t: t.replace('genesis = "genesis.json"\n', ""),
        "missing key 'genesis'",
    ),
    ("gateway", "bound", lambda t: t.replace("= 10", "= 0.5"), "limits.client_burst must be at least 1"),
    (
        "gateway",
        "unsealed key off loopback",
        lambda t: t.replace('"127.0.0.1:8000"', '"0.0.0.0:8000"').replace(
            "[limits]", "insecure_plaintext_key = true\n[limits]"
        ),
        "insecure_plaintext_key is for tests and demos on loopback only; listen = '0.0.0.0:8000' is not",
    ),
    (
        "node",
        "two passphrase sources",
        lambda t: t + 'key_passphrase_file = "p"\nkey_passphrase_env = "P"\n',
        "key_passphrase_file and key_passphrase_env exclude each other",
    ),
]


@pytest.mark.parametrize(("reader", "name", "spoil", "why"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_bad_file_is_one_line_naming_file_key_and_fault(
    tmp_path: Path, reader: str, name: str, spoil: Callable[[str], str], why: str
) -> None:
    text, load = READERS[reader]
    path = tmp_path / f"{reader}.toml"
    path.write_text(spoil(text))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: {why}"


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_good_file_reads_with_paths_beside_it(tmp_path: Path, reader: str) -> None:
    text, load = READERS[reader]
    path = tmp_path / f"{reader}.toml"
    path.write_text(text)
    config = load(path)
    assert getattr(config, "genesis") == tmp_path / "genesis.json"  # noqa: B009 - either reader's type
