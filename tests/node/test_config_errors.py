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
from votestore.crypto import sealing
from votestore.keys import PLAINTEXT_QUIETLY, new_signing_key, read_key_file, write_key_file

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


PASSPHRASE = "correct horse battery staple"


def _seal_key_0(net: LocalNet, passphrase: str, unlock: str) -> None:
    """Node 0's key sealed under `passphrase`; its config unlocks it with `unlock` instead of
    allowing an unsealed key."""
    path = net.workdir / "node0.key.json"
    key = read_key_file(path, unlock=PLAINTEXT_QUIETLY)
    write_key_file(path, key, overwrite=True, passphrase=passphrase, limits=sealing.INTERACTIVE)
    _edit_config(net, "insecure_plaintext_key = true", unlock)


def _wrong_passphrase(net: LocalNet) -> str:
    (net.workdir / "passphrase").write_text("not the passphrase\n")
    _seal_key_0(net, PASSPHRASE, 'key_passphrase_file = "passphrase"')
    return "node0.key.json: wrong passphrase, or the sealed blob is damaged"


def _sealed_without_a_passphrase(net: LocalNet) -> str:
    _seal_key_0(net, PASSPHRASE, "")
    return "node0.key.json is sealed: set key_passphrase_file or key_passphrase_env in"


def _passphrase_variable_unset(net: LocalNet) -> str:
    _seal_key_0(net, PASSPHRASE, 'key_passphrase_env = "VOTESTORE_TEST_UNSET_PASSPHRASE"')
    return "environment variable VOTESTORE_TEST_UNSET_PASSPHRASE (the key's passphrase) is not set"


def _unsealed_without_the_flag(net: LocalNet) -> str:
    _edit_config(net, "insecure_plaintext_key = true", "")
    return "node0.key.json is not sealed: seal it (`votestore keys seal"


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
    assert PASSPHRASE not in result.stdout + result.stderr
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
        _wrong_passphrase,
        _sealed_without_a_passphrase,
        _passphrase_variable_unset,
        _unsealed_without_the_flag,
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
