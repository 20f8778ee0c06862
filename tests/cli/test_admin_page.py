"""docs/admin.md, followed literally (issue 22): the shell blocks the page marks `<!-- run -->` are
taken from the page and run as written, in order, by bash in one working directory, against a
real 4-node cluster on 127.0.0.1 — with only what the page says a site has: `VOTESTORE_NODE`
naming the validators, `admin.key.json` and `genesis.json` in the directory. A command the page
shows that the CLI does not take, or an order that does not work, fails here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from ops.cluster import LocalNet

pytestmark = pytest.mark.cluster

PAGE: Final = Path(__file__).resolve().parents[2] / "docs" / "admin.md"
MARKED: Final = re.compile(r"^<!-- run -->\n```sh\n(.*?)^```$", re.DOTALL | re.MULTILINE)
BLOCK_TIMEOUT_S: Final = 180.0


def marked_blocks(page: Path) -> list[str]:
    return [m.group(1) for m in MARKED.finditer(page.read_text())]


def test_the_page_marks_its_walk_through() -> None:
    blocks = marked_blocks(PAGE)
    assert len(blocks) >= 5, "the walk-through's blocks lost their <!-- run --> marks"
    text = "\n".join(blocks)
    for step in ("election create", "roll import", "trustee deal", "election open", "trustee decrypt"):
        assert f"votestore {step}" in text, step


def test_admin_md_runs_as_written(net: LocalNet, tmp_path: Path) -> None:
    for name in ("admin.key.json", "genesis.json"):
        shutil.copy(net.workdir / name, tmp_path / name)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "VOTESTORE_NODE": " ".join(net.addresses),
    }
    for n, block in enumerate(marked_blocks(PAGE), 1):
        done = subprocess.run(
            ["bash", "-e", "-u", "-o", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, f"block {n} of {PAGE.name}:\n{block}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
    shown = json.loads((tmp_path / "result.json").read_text())
    assert shown["phase"] == "COUNTED" and shown["result"]["ballots_counted"] == 0, shown
    assert shown["result"]["contests"] == {"council": {"ada": 0, "bo": 0, "cy": 0}}
