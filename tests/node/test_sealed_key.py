"""A validator's key sealed at rest (Argon2id + SecretBox, votestore.crypto.sealing): the node
opens it with the passphrase its config points to — a file (a mounted Secret) or an environment
variable — signs, and never writes the passphrase or the seed to its log."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cluster import LocalNet
from votestore.crypto import sealing
from votestore.keys import PLAINTEXT_QUIETLY, is_sealed, read_key_file, write_key_file

PASSPHRASE = "sealed-at-rest passphrase 7"
ENV = "VOTESTORE_TEST_NODE1_PASSPHRASE"


def _seal(net: LocalNet, i: int, unlock: str) -> bytes:
    path = net.workdir / f"node{i}.key.json"
    key = read_key_file(path, unlock=PLAINTEXT_QUIETLY)
    write_key_file(path, key, overwrite=True, passphrase=PASSPHRASE, limits=sealing.INTERACTIVE)
    config = net.config_path(i)
    text = config.read_text()
    assert "insecure_plaintext_key = true" in text
    config.write_text(text.replace("insecure_plaintext_key = true", unlock))
    assert is_sealed(path)
    return bytes(key)


def test_sealed_keys_open_with_the_configured_passphrase_and_stay_out_of_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        (net.workdir / "node0.passphrase").write_text(PASSPHRASE + "\n")
        seeds = {
            0: _seal(net, 0, 'key_passphrase_file = "node0.passphrase"'),
            1: _seal(net, 1, f'key_passphrase_env = "{ENV}"'),
        }
        monkeypatch.setenv(ENV, PASSPHRASE)  # the node processes inherit it
        net.start_all()
        net.wait_height(3)  # 2 sealed + 2 unsealed validators: quorum needs a sealed one's votes
        net.close()
        for i in range(net.genesis.n):
            log = (net.workdir / f"node{i}.log").read_text()
            assert PASSPHRASE not in log, i
            for seed in seeds.values():
                assert seed.hex() not in log, i
            unsealed = "event=unsealed_key" in log
            assert unsealed == (i not in seeds), f"node {i}: the warning for an unsealed key"
