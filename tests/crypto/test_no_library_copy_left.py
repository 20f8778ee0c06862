"""A process that loads the ristretto255 code leaves nothing in the temporary directory.

rbcl writes its bundled libsodium to a new temporary file at each import (2.8 MB) and never
removes it; before votestore.crypto.group removed it, every validator start, CLI call and verify
worker left one behind, and a machine running the test suite filled its disk with them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = "import votestore.crypto.group as g; assert g.decode_point(g.base_mult(5)) == g.base_mult(5)"


def test_importing_the_group_leaves_no_file_in_the_temporary_directory(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
    left = sorted(p.name for p in scratch.iterdir())
    assert left == [], f"files left in the temporary directory by 3 imports: {left}"
