"""The sealed trustee key file: round trip, mode 0600, never overwritten, wrong passphrase, halves
that do not belong together, and a public part readable without the passphrase."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from votestore.crypto import sealing
from votestore.crypto.errors import SealError
from votestore.errors import ConfigError
from votestore.trustee_store import open_trustee_file, read_trustee_public, write_trustee_file

PASSPHRASE = "correct horse battery staple"


def _write(path: Path, name: str = "ann") -> None:
    write_trustee_file(path, name, PASSPHRASE, limits=sealing.INTERACTIVE)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "ann.key"
    public = write_trustee_file(path, "ann", PASSPHRASE, limits=sealing.INTERACTIVE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_trustee_public(path) == public
    keys = open_trustee_file(path, PASSPHRASE)
    assert keys.public == public
    assert bytes(keys.signing_key.verify_key) == public.sign_key
    assert keys.secrets.sign_seed.hex() not in repr(keys)


def test_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "ann.key"
    _write(path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        _write(path)
    assert path.read_bytes() == before


def test_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "ann.key"
    _write(path)
    with pytest.raises(SealError, match="wrong passphrase"):
        open_trustee_file(path, "guess")


def test_swapped_halves_are_refused(tmp_path: Path) -> None:
    ann, ben = tmp_path / "ann.key", tmp_path / "ben.key"
    _write(ann)
    _write(ben, "ben")
    document = json.loads(ann.read_text())
    document["sealed"] = json.loads(ben.read_text())["sealed"]
    ann.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match="do not match"):
        open_trustee_file(ann, PASSPHRASE)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not JSON"),
        ('{"type": "ed25519"}', "not a votestore trustee key file"),
        ('{"type": "votestore-trustee", "version": 9}', "version 9 unknown"),
        ('{"type": "votestore-trustee", "version": 1, "sign_key": "zz"}', "'sign_key' missing or not hex"),
    ],
)
def test_malformed_files(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(ConfigError, match=reason):
        read_trustee_public(path)
