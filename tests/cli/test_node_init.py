"""`votestore node init`: a key and a commented node.toml that names every option with the default
the node really uses; the file parses as written and with every optional line uncommented."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from node.config import NodeConfig, load_node_config
from ops.cli.node_init import EXAMPLES, OPTIONAL, REQUIRED
from votestore.keys import is_sealed

VOTESTORE = str(Path(sys.executable).parent / "votestore")


def _init(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOTESTORE, "node", "init", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_every_option_of_the_node_is_written_with_its_meaning() -> None:
    names = {f.name for f in dataclasses.fields(NodeConfig)}
    assert names == set(OPTIONAL) | set(REQUIRED), "a new node option needs a line in ops/cli/node_init.py"


@pytest.mark.parametrize("plaintext", [True, False], ids=["plaintext", "tls"])
def test_the_written_config_parses_as_written_and_uncommented(tmp_path: Path, plaintext: bool) -> None:
    listen = "127.0.0.1:7000" if plaintext else "0.0.0.0:7000"
    secret = tmp_path / "passphrase"
    secret.write_text("a site's passphrase\n")
    how = ["--insecure-plaintext"] if plaintext else ["--passphrase-file", str(secret)]
    result = _init(str(tmp_path / "site"), "--listen", listen, *how)
    assert result.returncode == 0, result.stderr
    assert re.search(r"public key \(for genesis\): [0-9a-f]{64}", result.stdout)
    path = tmp_path / "site" / "node.toml"
    written = load_node_config(path)
    assert written.listen == listen and written.insecure_plaintext == plaintext
    assert written.peer_listen == f"{listen.rpartition(':')[0]}:7002"  # the peer port apart
    assert (written.tls is None) == plaintext
    assert written.insecure_plaintext_key == plaintext  # an unsealed key only where plaintext is
    assert written.key_passphrase_file == (None if plaintext else secret.resolve())
    assert is_sealed(written.key_file) != plaintext
    uncommented = tmp_path / "site" / "all.toml"
    uncommented.write_text(re.sub(r"^# (\w+ = )", r"\1", path.read_text(), flags=re.MULTILINE))
    every = load_node_config(uncommented)
    for name in OPTIONAL:
        expected = EXAMPLES.get(name, getattr(written, name))
        if name == "backup_dir":  # a path: relative to the config's directory
            expected = uncommented.parent / str(expected)
        assert getattr(every, name) == expected, name


def test_it_never_overwrites(tmp_path: Path) -> None:
    assert _init(str(tmp_path), "--listen", "127.0.0.1:7000", "--insecure-plaintext").returncode == 0
    key = (tmp_path / "node.key.json").read_bytes()
    again = _init(str(tmp_path), "--listen", "127.0.0.1:7000", "--insecure-plaintext")
    assert again.returncode == 1
    assert (
        again.stderr
        == f"error: {tmp_path / 'node.toml'} exists: node init never overwrites a config or a key\n"
    )
    assert (tmp_path / "node.key.json").read_bytes() == key


def test_plaintext_off_loopback_is_refused(tmp_path: Path) -> None:
    refused = _init(str(tmp_path / "x"), "--listen", "0.0.0.0:7000", "--insecure-plaintext")
    assert refused.returncode == 1 and "loopback addresses only" in refused.stderr
    assert not (tmp_path / "x").exists()


def test_a_key_is_sealed_or_the_node_is_local(tmp_path: Path) -> None:
    refused = _init(str(tmp_path / "x"), "--listen", "0.0.0.0:7000")
    assert refused.returncode == 1 and refused.stderr.startswith("error: give --passphrase-file"), (
        refused.stderr
    )
    assert not (tmp_path / "x").exists()
