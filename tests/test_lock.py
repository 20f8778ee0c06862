"""The environment is the lock: `make setup` installs requirements/dev.lock exactly, the image
installs requirements/runtime.lock, both agree with each other and with pyproject.toml's ranges,
and the generated gRPC code comes from the locked grpcio-tools."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT: Final = Path(__file__).resolve().parents[1]
DEV_LOCK: Final = ROOT / "requirements" / "dev.lock"
RUNTIME_LOCK: Final = ROOT / "requirements" / "runtime.lock"
PIN: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
PIP_TIMEOUT_S: Final = 60


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    assert pins, f"{lock} pins nothing"
    return pins


def _entries(lock: Path) -> list[str]:
    """Each requirement with its continuation lines, comments dropped."""
    text = "\n".join(line for line in lock.read_text().splitlines() if not line.lstrip().startswith("#"))
    return [entry for entry in re.split(r"\n(?=\S)", text.replace("\\\n", " ")) if entry.strip()]


def test_venv_is_exactly_the_dev_lock() -> None:
    """`pip freeze` of the running environment equals requirements/dev.lock: nothing missing,
    nothing extra, no other version (the project itself, installed editable, aside)."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
        check=True,
    ).stdout
    installed = {}
    for line in frozen.splitlines():
        match = PIN.match(line)
        assert match, f"pip freeze line not a pin (installed from elsewhere?): {line!r}"
        installed[canonicalize_name(match[1])] = match[2]
    locked = _pins(DEV_LOCK)
    differ = {
        name: (installed.get(name), locked.get(name))
        for name in installed.keys() | locked.keys()
        if installed.get(name) != locked.get(name)
    }
    assert not differ, f"venv differs from {DEV_LOCK.name} (installed, locked): {differ}; run `make setup`"


def test_every_locked_requirement_carries_hashes() -> None:
    for lock in (DEV_LOCK, RUNTIME_LOCK):
        for entry in _entries(lock):
            assert "--hash=sha256:" in entry, f"{lock.name}: no hash for {entry.split()[0]}"


def test_runtime_lock_is_the_dev_lock_restricted_to_runtime() -> None:
    dev, runtime = _pins(DEV_LOCK), _pins(RUNTIME_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime, "runtime.lock pins other versions"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for raw in project["dependencies"]:
        assert canonicalize_name(Requirement(raw).name) in runtime, f"{raw} missing from runtime.lock"
    assert "pytest" not in runtime and "mypy" not in runtime, "dev tools in the image's lock"


def test_pyproject_ranges_admit_the_locked_versions() -> None:
    """pyproject.toml changed without `make lock`: a range that no longer admits the pin."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _pins(DEV_LOCK)
    for raw in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(raw)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{raw} is not locked: run `make lock`"
        assert requirement.specifier.contains(locked[name]), f"{raw} excludes locked {locked[name]}"


def test_generated_grpc_code_comes_from_the_locked_tools() -> None:
    tools = _pins(DEV_LOCK)["grpcio-tools"]
    generated = sorted((ROOT / "proto" / "votestore" / "v1").glob("*_pb2_grpc.py"))
    assert generated
    for path in generated:
        (named,) = re.findall(r"^GRPC_GENERATED_VERSION = '([^']+)'$", path.read_text(), re.MULTILINE)
        assert named == tools, f"{path.name} made by grpcio-tools {named}, lock has {tools}: `make proto`"


def test_setup_bootstraps_the_locked_uv() -> None:
    """scripts/setup_venv.sh takes uv's pin and hashes from the lock itself; the entry must be there."""
    (entry,) = [e for e in _entries(DEV_LOCK) if e.startswith("uv==")]
    assert entry.count("--hash=sha256:") >= 1
    assert "awk '/^uv==/" in (ROOT / "scripts" / "setup_venv.sh").read_text()
