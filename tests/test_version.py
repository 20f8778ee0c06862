"""Which build runs is said in one way everywhere: `votestore --version`, the build-info metric of
each process (GetStatus and first log lines: tests/node/test_cluster.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest

from gateway.metrics import GatewayMetrics
from node.metrics import NodeMetrics
from tools.verify.follow import VerifierMetrics
from votestore import version as build

ROOT: Final = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S: Final = 60


def _head() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=True,
    ).stdout.strip()


def test_version_option_prints_version_and_commit() -> None:
    cli = Path(sys.executable).parent / "votestore"
    done = subprocess.run(
        [str(cli), "--version"], capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, done.stderr
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    match = re.fullmatch(r"votestore (\S+) \(commit (\S+), protocol (\d+)\)\n", done.stdout)
    assert match, done.stdout
    assert match[1] == expected
    assert match[2].removesuffix("-dirty") == _head()
    assert int(match[3]) == build.PROTOCOL_VERSION


def test_commit_comes_from_the_image_build_argument() -> None:
    env = {"VOTESTORE_COMMIT": "0123456789ab", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", "from votestore import version; print(version.commit())"],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=True,
        env=env,
        cwd=ROOT,
    )
    assert done.stdout.strip() == "0123456789ab"


def test_every_process_exports_build_info() -> None:
    registries = {
        "node": NodeMetrics().registry,
        "gateway": GatewayMetrics().registry,
        "verifier": CollectorRegistry(),
    }
    VerifierMetrics(registries["verifier"])
    for component, registry in registries.items():
        text = generate_latest(registry).decode()
        (line,) = [row for row in text.splitlines() if row.startswith("votestore_build_info{")]
        for key, value in (
            ("component", component),
            ("version", build.version()),
            ("commit", build.commit()),
            ("protocol", str(build.PROTOCOL_VERSION)),
        ):
            assert f'{key}="{value}"' in line, (component, line)
        assert line.endswith(" 1.0"), line
