"""Running the JavaScript side from pytest: node's test runner and the test CLI in web/testkit/.

Nothing here skips: a machine without node or without web/node_modules fails the tests with the
command that sets it up (`make setup` runs `npm ci` in web/).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
WEB: Final = ROOT / "web"
NODE_TIMEOUT_S: Final = 120


def node() -> str:
    path = shutil.which("node")
    assert path, "node (>= 20) is not on PATH: install the nodejs package (make setup does)"
    assert (WEB / "node_modules" / "@noble" / "curves").is_dir(), "web/node_modules missing: run `make setup`"
    return path


def run_node_tests() -> subprocess.CompletedProcess[str]:
    """`node --test test/` in web/, its TAP output captured."""
    return subprocess.run(
        [node(), "--test", "test/"],
        stdin=subprocess.DEVNULL,
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )


def js_ballots(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ballot transactions made by web/testkit/ballot_cli.js, one result per request."""
    proc = subprocess.run(
        [node(), "testkit/ballot_cli.js"],
        cwd=WEB,
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)["results"]
    assert len(results) == len(requests)
    return results
