"""The Dockerfile (not built here: no container engine on these machines): hadolint accepts it,
the base is pinned, it runs as a non-root user, and it copies only runtime files that the
.dockerignore lets into the build context."""

from __future__ import annotations

import re
import tomllib
from typing import Final

from tests.deploy.tools import ROOT, run, venv_tool

DOCKERFILE: Final = ROOT / "Dockerfile"
RUNTIME_SOURCES: Final = {
    "requirements/runtime.lock",
    "pyproject.toml",
    "README.md",
    "proto",
    "votestore",
    "election",
    "node",
    "gateway",
    "tools",
    "ops",
}


def test_hadolint_passes() -> None:
    result = run([venv_tool("hadolint"), "--failure-threshold", "info", DOCKERFILE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_is_pinned_and_stages_are_named() -> None:
    text = DOCKERFILE.read_text()
    (image,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image)
    assert re.findall(r"^FROM (\S+) AS (\w+)$", text, re.MULTILINE) == [
        ("${PYTHON_IMAGE}", "build"),
        ("${PYTHON_IMAGE}", "runtime"),
    ]


def test_runtime_stage_runs_as_the_pods_user() -> None:
    runtime = DOCKERFILE.read_text().split(" AS runtime", 1)[1]
    (user,) = re.findall(r"^USER (\S+)$", runtime, re.MULTILINE)
    assert user == "10001:10001", "deploy/k8s runs pods as uid and gid 10001"
    copies = re.findall(r"^COPY (.+)$", runtime, re.MULTILINE)
    assert copies == ["--from=build /opt/votestore /opt/votestore"], "runtime gets the virtualenv only"


def test_build_copies_only_runtime_files_the_context_holds() -> None:
    build = DOCKERFILE.read_text().split(" AS runtime", 1)[0]
    sources = set()
    for line in re.findall(r"^COPY (.+)$", build, re.MULTILINE):
        sources.update(line.split()[:-1])
    assert sources == RUNTIME_SOURCES
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert "*" in (ROOT / ".dockerignore").read_text().splitlines(), "everything else stays out"
    assert allowed == RUNTIME_SOURCES
    for source in sources:
        assert (ROOT / source).exists(), source


def test_image_installs_the_locked_set_and_carries_version_and_commit() -> None:
    """The image resolves nothing: the runtime lock with hashes, then the package without its
    dependencies; its labels name the pyproject version and the commit it is built from."""
    text = DOCKERFILE.read_text()
    build = text.split(" AS runtime", 1)[0]
    installs = re.findall(r"^RUN pip install (.+?)(?: \\)?$", build, re.MULTILINE)
    assert installs == [
        "--no-compile --require-hashes --no-deps -r requirements/runtime.lock",
        "--no-compile --no-deps --no-build-isolation .",
    ], installs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (label,) = re.findall(r'org\.opencontainers\.image\.version="([^"]+)"', text)
    assert label == project["version"], "the image label must name pyproject.toml's version"
    assert 'org.opencontainers.image.revision="${VCS_REF}"' in text
    assert "ENV VOTESTORE_COMMIT=${VCS_REF}" in text
