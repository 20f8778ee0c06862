"""The installed `votestore` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VOTESTORE = str(Path(sys.executable).parent / "votestore")
GROUPS = [
    "keys",
    "genesis",
    "node",
    "gateway",
    "election",
    "roll",
    "trustee",
    "notices",
    "cast",
    "receipt",
    "verify",
    "verifier",
    "sim",
    "demo",
]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOTESTORE, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


def test_help_lists_every_group() -> None:
    result = run("--help")
    assert result.returncode == 0
    for group in GROUPS:
        assert f" {group} " in result.stdout, group


def test_keys_and_genesis_make_a_checkable_chain(tmp_path: Path) -> None:
    publics = []
    for i in range(4):
        out = run("keys", "gen", "--out", str(tmp_path / f"v{i}.json"))
        assert out.returncode == 0, out.stderr
        publics.append(out.stdout.strip())
    admin = run("keys", "gen", "--out", str(tmp_path / "admin.json")).stdout.strip()
    args = ["genesis", "init", "--chain-id", "t", "--admin", admin, "--out", str(tmp_path / "g.json")]
    one_address = run(*args, "--validator", f"v0={publics[0]}@127.0.0.1:7100")
    assert one_address.stderr.strip().endswith("expected NAME=PUBKEY_HEX@PEER_HOST:PORT,API_HOST:PORT")
    for i, public in enumerate(publics):
        args += ["--validator", f"v{i}={public}@127.0.0.1:{7100 + i},127.0.0.1:{7200 + i}"]
    made = run(*args)
    assert made.returncode == 0, made.stderr
    checked = run("genesis", "hash", str(tmp_path / "g.json"))
    assert checked.stdout == made.stdout
    written = json.loads((tmp_path / "g.json").read_text())["validators"][1]
    assert (written["address"], written["api_address"]) == ("127.0.0.1:7101", "127.0.0.1:7201")
    assert len(bytes.fromhex(checked.stdout.strip())) == 32
    # Each site issues its TLS certificate from its own key; the CA certificates make the bundle.
    genesis = str(tmp_path / "g.json")
    for i in range(4):
        issued = run("keys", "tls", "issue", "--key", str(tmp_path / f"v{i}.json"), "--genesis", genesis,
                     "--out", str(tmp_path / f"v{i}"))  # fmt: skip
        assert issued.returncode == 0 and issued.stdout.startswith(f"validator {i}:"), issued.stderr
    cas = [str(tmp_path / f"v{i}.ca.pem") for i in range(4)]
    bundled = run("keys", "tls", "bundle", "--genesis", genesis, "--out", str(tmp_path / "cas.pem"), *cas)
    assert bundled.returncode == 0, bundled.stderr
    refused = run("keys", "tls", "bundle", "--genesis", genesis, "--out", str(tmp_path / "bad.pem"), cas[0])
    assert (
        refused.stderr.strip() == f"error: {tmp_path / 'bad.pem'}: no CA certificate for validators [1, 2, 3]"
    )
    assert not (tmp_path / "bad.pem").exists()


def test_bad_genesis_is_one_line_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text('{"chain_id": "x"}')
    result = run("genesis", "hash", str(tmp_path / "g.json"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "command", [["keys", "show", "/nonexistent/key.json"], ["genesis", "hash", "/nonexistent"]]
)
def test_missing_files_are_clear(command: list[str]) -> None:
    result = run(*command)
    assert result.returncode == 1
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["node", "start"],
            "error: No such command 'start'. Did you mean 'status'? (see 'votestore node --help')",
        ),
        (["node", "run", "--bogus"], "error: No such option: --bogus (see 'votestore node run --help')"),
        (["cast"], "error: Missing option '--gateway'. (see 'votestore cast --help')"),
    ],
)
def test_usage_errors_are_one_error_line(command: list[str], message: str) -> None:
    """typer's usage errors, like ours: one `error:` line saying what to read next, exit 2."""
    result = run(*command)
    assert result.returncode == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_a_bare_group_prints_its_help() -> None:
    result = run("node")
    assert result.returncode == 0
    assert "Usage: votestore node" in result.stdout and " run " in result.stdout


def _run_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOTESTORE, *args], capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **env}
    )


def test_keys_are_sealed_shown_without_the_passphrase_and_opened_only_with_it(tmp_path: Path) -> None:
    """`keys gen --sealed` and `keys seal` write the seed sealed; `show` needs no passphrase; a
    command signing with the key opens it with the right one only, in one `error:` line else."""
    secret, wrong = tmp_path / "pass", tmp_path / "wrong"
    secret.write_text("the right one\n")
    wrong.write_text("not it\n")
    made = run("keys", "gen", "--out", str(tmp_path / "v.json"), "--sealed", "--passphrase-file", str(secret),
               "--kdf", "interactive")  # fmt: skip
    assert made.returncode == 0, made.stderr
    document = json.loads((tmp_path / "v.json").read_text())
    assert "seed" not in document and document["public_key"] == made.stdout.strip()
    assert run("keys", "show", str(tmp_path / "v.json")).stdout == made.stdout
    plain = run("keys", "gen", "--out", str(tmp_path / "p.json"))
    sealed = run(
        "keys", "seal", str(tmp_path / "p.json"), "--passphrase-file", str(secret), "--kdf", "interactive"
    )
    assert sealed.returncode == 0 and sealed.stdout == plain.stdout, sealed.stderr
    assert "seed" not in json.loads((tmp_path / "p.json").read_text())
    again = run("keys", "seal", str(tmp_path / "p.json"), "--passphrase-file", str(secret))
    assert again.stderr == f"error: {tmp_path / 'p.json'} is already sealed\n"
    # a genesis naming the sealed key, then a command that signs with it (`keys tls issue`)
    others = [run("keys", "gen", "--out", str(tmp_path / f"o{i}.json")).stdout.strip() for i in range(3)]
    specs = [f"v0={made.stdout.strip()}@127.0.0.1:7100,127.0.0.1:7200"]
    specs += [f"v{i + 1}={key}@127.0.0.1:{7101 + i},127.0.0.1:{7201 + i}" for i, key in enumerate(others)]
    genesis = str(tmp_path / "g.json")
    args = ["genesis", "init", "--chain-id", "t", "--admin", others[0], "--out", genesis]
    assert run(*args, *(a for spec in specs for a in ("--validator", spec))).returncode == 0
    issue = ["keys", "tls", "issue", "--key", str(tmp_path / "v.json"), "--genesis", genesis]
    opened = _run_env({"VOTESTORE_KEY_PASSPHRASE_FILE": str(secret)}, *issue, "--out", str(tmp_path / "ok"))
    assert opened.returncode == 0 and opened.stdout.startswith("validator 0:"), opened.stderr
    refused = _run_env({"VOTESTORE_KEY_PASSPHRASE_FILE": str(wrong)}, *issue, "--out", str(tmp_path / "no"))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: key file {tmp_path / 'v.json'}: wrong passphrase, or the sealed blob is damaged\n"
    )
    assert "the right one" not in refused.stdout + refused.stderr + opened.stdout + opened.stderr
