"""A built voter page for the bundle tests: web/build/page.mjs run into a folder of the test's own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Final

from tests.web.node_runner import NODE_TIMEOUT_S, WEB, node

BUILD: Final = WEB / "build" / "page.mjs"


def build_page(out: Path) -> dict[str, Any]:
    """Build into `out`; the manifest it wrote."""
    done = subprocess.run(
        [node(), str(BUILD), str(out)],
        cwd=WEB,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return manifest
