"""Bad configs get one clear line and a non-zero exit — never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ops.cluster import LocalNet
from votestore.keys import new_signing_key, write_key_file

VOTESTORE = [sys.executable, "-m", "votestore"]


def _run_node(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VOTESTORE, "node", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _missing_key(net: LocalNet) -> str:
    (net.workdir / "node0.key.json").unlink()
    return "key file"


def _bad_genesis(net: LocalNet) -> str:
    net.genesis_path.write_text('{"chain_id": "x", "validators": []}')
    return "genesis"


def _garbled_config(net: LocalNet) -> str:
    net.config_path(0).write_text("key_file = \n")
    return "config file"


def _unknown_setting(net: LocalNet) -> str:
    net.config_path(0).write_text(net.config_path(0).read_text() + "colour = 3\n")
    return "unknown keys ['colour']"


def _foreign_key(net: LocalNet) -> str:
    write_key_file(net.workdir / "node0.key.json", new_signing_key(), overwrite=True)
    return "not one of the genesis validators"


def _timeouts_that_never_grow(net: LocalNet) -> str:
    document = json.loads(net.genesis_path.read_text())
    document["timeouts"]["delta_ms"] = 0
    net.genesis_path.write_text(json.dumps(document))
    return "timeouts.delta_ms must be a positive number of milliseconds (timeouts that never grow"


def _loud_log_level(net: LocalNet) -> str:
    net.config_path(0).write_text(net.config_path(0).read_text() + 'log_level = "LOUD"\n')
    return "log_level 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"


def _edit_config(net: LocalNet, old: str, new: str) -> None:
    path = net.config_path(0)
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _no_transport(net: LocalNet) -> str:
    _edit_config(net, "insecure_plaintext = true\n", "")
    return "needs a [tls] table"


def _plaintext_off_loopback(net: LocalNet) -> str:
    _edit_config(net, f'listen = "{net.addresses[0]}"', 'listen = "0.0.0.0:7000"')
    return "insecure_plaintext is for loopback (or 198.18.0.0/15, a test network) only"


def _no_peer_listen(net: LocalNet) -> str:
    """A config from before the two ports: refused with what to add, not served on one port."""
    _edit_config(net, f'peer_listen = "{net.peer_addresses[0]}"\n', "")
    return 'no peer_listen: peer traffic has its own port; add peer_listen = "HOST:PORT"'


def _one_port_for_both(net: LocalNet) -> str:
    _edit_config(net, f'peer_listen = "{net.peer_addresses[0]}"', f'peer_listen = "{net.addresses[0]}"')
    return "peer_listen and listen are both"


def _peer_port_off_loopback(net: LocalNet) -> str:
    _edit_config(net, f'peer_listen = "{net.peer_addresses[0]}"', 'peer_listen = "0.0.0.0:7002"')
    return "peer_listen = '0.0.0.0:7002' is not"


def _another_validator_s_certificate(net: LocalNet) -> str:
    _edit_config(net, 'cert = "node0.tls.pem"', 'cert = "node1.tls.pem"')
    return "must hold a TLS certificate then validator 0's CA certificate"


def _foreign_ca_bundle(net: LocalNet) -> str:
    other = LocalNet.create(net.workdir / "other", tls=True)
    (net.workdir / "validators.ca.pem").write_bytes((other.workdir / "validators.ca.pem").read_bytes())
    return "is not a genesis validator's CA certificate"


@pytest.mark.parametrize(
    "spoil", [_another_validator_s_certificate, _foreign_ca_bundle], ids=lambda f: f.__name__
)
def test_bad_tls_setup_is_one_clear_line(tmp_path: Path, spoil: Callable[[LocalNet], str]) -> None:
    _assert_one_clear_line(LocalNet.create(tmp_path / "net", tls=True), spoil)


def _assert_one_clear_line(net: LocalNet, spoil: Callable[[LocalNet], str]) -> None:
    expected = spoil(net)
    result = _run_node(net.config_path(0))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and expected in lines[-1], result.stderr


@pytest.mark.parametrize(
    "spoil",
    [
        _missing_key,
        _bad_genesis,
        _garbled_config,
        _unknown_setting,
        _foreign_key,
        _no_transport,
        _plaintext_off_loopback,
        _no_peer_listen,
        _one_port_for_both,
        _peer_port_off_loopback,
        _timeouts_that_never_grow,
        _loud_log_level,
    ],
    ids=lambda f: f.__name__,
)
def test_bad_setup_is_one_clear_line(tmp_path: Path, spoil: Callable[[LocalNet], str]) -> None:
    _assert_one_clear_line(LocalNet.create(tmp_path / "net"), spoil)


def test_missing_config_file(tmp_path: Path) -> None:
    result = _run_node(tmp_path / "nope.toml")
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: config file {tmp_path / 'nope.toml'} not found"


def test_port_in_use(tmp_path: Path) -> None:
    net = LocalNet.create(tmp_path / "net")
    host, port = net.addresses[0].rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        squatter.bind((host, int(port)))
        squatter.listen()
        result = _run_node(net.config_path(0))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "cannot listen on" in result.stderr.strip().splitlines()[-1], result.stderr
