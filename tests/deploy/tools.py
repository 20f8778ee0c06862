"""What tests/deploy shares: where the deploy files are, the external tools they are checked
with (failing with a message naming the package where a tool is missing: `make test` installs
them, so a missing one is a broken set-up, never a reason to skip), and rendering the
kustomize overlays with a genesis made by the project's own code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import nacl.signing
import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from votestore.genesis import Genesis, Validator

ROOT: Final = Path(__file__).resolve().parents[2]
K8S: Final = ROOT / "deploy" / "k8s"
MONITORING: Final = K8S / "monitoring"
OVERLAYS: Final = ("single-site", "multi-site")
TOOL_TIMEOUT_S: Final = 120.0
SEED: Final = 20260
TRIAL_VALIDATORS: Final = 4

Manifest = dict[str, Any]


def venv_tool(name: str) -> Path:
    """A console script installed with the dev dependencies (pyproject.toml), beside python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed: run `make setup` (PyPI package {name})", pytrace=False)
    return path


def system_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: install the Debian package '{package}' (scripts/install_test_tools.sh)",
            pytrace=False,
        )
    return path


def run(args: list[str | Path], *, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def trial_genesis() -> Genesis:
    """A genesis as the single-site ceremony makes it: in-cluster validator addresses (pod
    votestore-node-<i>-0 of validator i's own StatefulSet; the peer port, then the public API).
    Keys are
    seeded so the rendered manifests are the same on every run."""
    keys = [nacl.signing.SigningKey(bytes([SEED % 256, i]) * 16) for i in range(TRIAL_VALIDATORS)]
    return Genesis(
        chain_id="votestore-trial",
        genesis_time_ms=1_767_225_600_000,
        validators=tuple(
            Validator(
                i,
                f"site-{i}",
                bytes(k.verify_key),
                f"votestore-node-{i}-0.votestore-node.votestore.svc.cluster.local:7002",
                f"votestore-node-{i}-0.votestore-node.votestore.svc.cluster.local:7000",
            )
            for i, k in enumerate(keys)
        ),
        admins=(bytes(nacl.signing.SigningKey(bytes([SEED % 256, 99]) * 16).verify_key),),
    )


def render(workdir: Path, overlay: str) -> str:
    """`kubectl kustomize` of an overlay, on a copy of deploy/k8s with a genesis.json in place
    (the repository keeps none: each deployment brings its ceremony's)."""
    kubectl = system_tool("kubectl", "kubectl (google-cloud-cli-kubectl) for `kubectl kustomize`")
    copy = workdir / "k8s"
    if not copy.exists():
        shutil.copytree(K8S, copy)
        genesis = trial_genesis().to_json()
        for name in OVERLAYS:
            (copy / "overlays" / name / "genesis.json").write_text(genesis)
            # Only rendered here, never read: the node, gateway and verifier check it at start.
            (copy / "overlays" / name / "validators.ca.pem").write_text("placeholder\n")
    target = copy / "overlays" / overlay if overlay in OVERLAYS else copy / overlay
    result = run([kubectl, "kustomize", target])
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return result.stdout


def documents(text: str) -> list[Manifest]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(manifests: list[Manifest], kind: str) -> Iterator[Manifest]:
    return (m for m in manifests if m["kind"] == kind)


def config_map(manifests: list[Manifest], name: str) -> Manifest:
    """A ConfigMap by the name the manifests refer to it by (kustomize may add a hash suffix)."""
    matches = [
        m
        for m in of_kind(manifests, "ConfigMap")
        if m["metadata"]["name"] == name or m["metadata"]["name"].rsplit("-", 1)[0] == name
    ]
    assert len(matches) == 1, f"expected one ConfigMap {name}, found {len(matches)}"
    return matches[0]
