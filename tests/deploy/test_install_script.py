"""scripts/install_test_tools.sh never fails the build: where it cannot install, it names the
package and the tests skip; where everything is installed, it is quiet."""

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


def test_without_the_tools_or_apt_it_names_what_is_missing_and_succeeds(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    for name in ("id",):  # the script's only helper besides bash builtins
        found = shutil.which(name)
        assert found is not None
        (bare / name).symlink_to(found)
    result = _run(str(bare))
    assert result.returncode == 0, result.stderr
    assert "'prometheus'" in result.stderr
    assert "'kubectl'" in result.stderr


def test_quiet_when_everything_is_there() -> None:
    system_tool("promtool", "prometheus")
    system_tool("prometheus", "prometheus")
    system_tool("kubectl", "kubectl (google-cloud-cli-kubectl)")
    result = _run(os.environ["PATH"])
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
