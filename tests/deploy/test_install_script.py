"""scripts/install_test_tools.sh: where a tool is missing and cannot be installed, it fails
naming the package (so the deploy tests never silently skip); where everything is installed,
it is quiet."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

from tests.deploy.tools import ROOT, TOOL_TIMEOUT_S, system_tool

SCRIPT: Final = ROOT / "scripts" / "install_test_tools.sh"


def _run(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def test_without_the_tools_or_apt_it_fails_naming_the_package(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    for name in ("id",):  # the script's only helper besides bash builtins
        found = shutil.which(name)
        assert found is not None
        (bare / name).symlink_to(found)
    result = _run(str(bare))
    assert result.returncode == 1, result.stderr
    assert "error: cannot install Debian package 'prometheus'" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_quiet_when_everything_is_there() -> None:
    system_tool("promtool", "prometheus")
    system_tool("prometheus", "prometheus")
    system_tool("kubectl", "kubectl (google-cloud-cli-kubectl)")
    result = _run(os.environ["PATH"])
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
