from __future__ import annotations

import json
import stat
from pathlib import Path

import nacl.signing
import pytest

from votestore.errors import ConfigError
from votestore.genesis import Genesis, Validator, load_genesis, parse_genesis
from votestore.keys import PLAINTEXT_QUIETLY, new_signing_key, read_key_file, write_key_file


def _genesis(n: int = 4) -> Genesis:
    keys = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(n)]
    return Genesis(
        chain_id="test-chain",
        genesis_time_ms=1,
        validators=tuple(
            Validator(i, f"v{i}", bytes(k.verify_key), f"127.0.0.1:{7000 + i}") for i, k in enumerate(keys)
        ),
        admins=(bytes(keys[0].verify_key),),
    )


def test_genesis_round_trips_and_hash_is_stable(tmp_path: Path) -> None:
    genesis = _genesis()
    path = tmp_path / "genesis.json"
    path.write_text(genesis.to_json())
    loaded = load_genesis(path)
    assert loaded == genesis
    assert loaded.hash() == genesis.hash()
    assert (loaded.n, loaded.f, loaded.quorum) == (4, 1, 3)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("chain_id"), "missing 'chain_id'"),
        (lambda d: d.update(validators=d["validators"][:3]), "at least 4 validators"),
        (lambda d: d["validators"][1].update(index=5), "must equal its position"),
        (lambda d: d["validators"][1].update(public_key="zz"), "not hex"),
        (
            lambda d: d["validators"][1].update(public_key=d["validators"][0]["public_key"]),
            r"validators 0 \(v0\) and 1 \(v1\) share a public key",
        ),
        (lambda d: d.update(admins=[]), "at least one admin"),
        (lambda d: d["validators"][2].update(api_address=7000), "'api_address' must be str"),
        (
            lambda d: d["validators"][2].update(api_address=d["validators"][2]["address"]),
            r"validators\[2\]: api_address and address are the same",
        ),
        (lambda d: d["policy"].update(max_window_ms=6 * 24 * 3600 * 1000), "5 days"),
        (lambda d: d["timeouts"].update(bogus_ms=1), "unknown timeouts"),
    ],
)
def test_bad_genesis_names_the_problem(mutate: object, message: str) -> None:
    document = json.loads(_genesis().to_json())
    mutate(document)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        parse_genesis(document)


def test_the_public_address_is_apart_and_optional() -> None:
    """A genesis names each validator's peer port (`address`) and public API (`api_address`);
    one made before the split has no `api_address`, keeps its JSON and hash, and its clients
    dial `address`."""
    old = _genesis()
    assert "api_address" not in old.to_json()
    assert [v.public_address for v in old.validators] == [v.address for v in old.validators]
    split = Genesis(
        chain_id=old.chain_id,
        genesis_time_ms=1,
        validators=tuple(
            Validator(v.index, v.name, v.public_key, v.address, f"10.0.0.{v.index}:7000")
            for v in old.validators
        ),
        admins=old.admins,
    )
    loaded = parse_genesis(json.loads(split.to_json()))
    assert loaded == split and loaded.hash() != old.hash()
    assert [v.public_address for v in loaded.validators] == [f"10.0.0.{i}:7000" for i in range(4)]


def test_missing_and_unreadable_genesis(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_genesis(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        load_genesis(tmp_path / "bad.json")


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    key = new_signing_key()
    path = tmp_path / "k.json"
    write_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes(read_key_file(path, unlock=PLAINTEXT_QUIETLY)) == bytes(key)
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_key_file(path, key)


def test_key_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        read_key_file(tmp_path / "missing.json", unlock=PLAINTEXT_QUIETLY)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "ed25519", "seed": "00" * 31}))
    with pytest.raises(ConfigError, match="32 bytes"):
        read_key_file(bad, unlock=PLAINTEXT_QUIETLY)
    mismatch = tmp_path / "mismatch.json"
    mismatch.write_text(json.dumps({"type": "ed25519", "seed": "01" * 32, "public_key": "00" * 32}))
    with pytest.raises(ConfigError, match="does not match"):
        read_key_file(mismatch, unlock=PLAINTEXT_QUIETLY)
