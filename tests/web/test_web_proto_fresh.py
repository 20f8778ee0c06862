"""web/src/gen must be what protoc-gen-es makes of proto/votestore/v1/*.proto now (`npm run gen`
in web/), as tests/test_proto_fresh.py holds the Python code to the same files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.web.node_runner import NODE_TIMEOUT_S, WEB, node

GENERATED = WEB / "src" / "gen"


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_generated_js_matches_proto_files(tmp_path: Path) -> None:
    node()  # fails with the set-up command when web/node_modules is missing
    subprocess.run(
        [
            "node_modules/.bin/buf",
            "generate",
            "..",
            "--path",
            "../proto/votestore/v1",
            "--exclude-path",
            "../.venv",
            "--exclude-path",
            "node_modules",
            "-o",
            str(tmp_path),
        ],
        cwd=WEB,
        check=True,
        timeout=NODE_TIMEOUT_S,
    )
    fresh = _files(tmp_path / "src" / "gen")
    assert fresh, "buf generated nothing"
    assert fresh == _files(GENERATED), "web/src/gen is stale: run `npm run gen` in web/"
