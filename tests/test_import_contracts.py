"""The import contracts of pyproject.toml bite: a copy of the tree with one forbidden import planted
fails `lint-imports`, naming the contract it breaks, while the unplanted copy passes.

Each case copies the packages and pyproject.toml to a temporary directory, writes one extra module
there and runs `lint-imports` in that directory (which it puts first on the import path), so nothing
is written to the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[1]
PACKAGES: Final = ("proto", "votestore", "election", "node", "gateway", "tools", "ops")
LINT_TIMEOUT_S: Final = 60.0


def lint_imports() -> Path:
    path = Path(sys.executable).parent / "lint-imports"
    assert path.exists(), "lint-imports is missing: run `make setup` (dev dependency import-linter)"
    return path


def tree_copy(dest: Path) -> Path:
    """The Python packages and the contracts, without caches or generated artefacts."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            dest / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "*.proto", "py.typed"),
        )
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def run_contracts(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(lint_imports()), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_S,
    )


def test_the_unplanted_copy_keeps_every_contract(tmp_path: Path) -> None:
    result = run_contracts(tree_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module written into the copy, its import, the contract that must break)
PLANTS: Final = [
    ("proto/votestore/v1/planted.py", "import votestore.encoding", "proto imports nothing of ours"),
    ("votestore/planted.py", "import node.ledger.store", "votestore (the kernel) imports only proto"),
    ("votestore/crypto/planted.py", "import ops.cluster", "votestore (the kernel) imports only proto"),
    ("election/planted.py", "import node.ledger.store", "election (the rules) imports only votestore"),
    ("node/consensus/planted.py", "import node.ledger.store", "node.consensus (the pure core) imports only"),
    ("node/consensus/planted.py", "import election.app", "node.consensus (the pure core) imports only"),
    ("node/consensus/planted.py", "import proto.votestore.v1", "node.consensus knows no wire format"),
    ("node/planted.py", "import ops.cli.main", "node (the validator) never imports"),
    ("gateway/planted.py", "import election.app", "gateway knows only the kernel"),
    ("tools/verify/planted.py", "import node.main", "tools.verify never imports node"),
]


@pytest.mark.parametrize(("module", "statement", "contract"), PLANTS)
def test_a_planted_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, statement: str, contract: str
) -> None:
    tree = tree_copy(tmp_path)
    (tree / module).write_text(f'"""A forbidden import, planted by the test."""\n\n{statement}\n')
    result = run_contracts(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert len(broken) == 1, result.stdout
    assert broken[0].startswith(contract), broken
    planted = module.removesuffix(".py").replace("/", ".")
    assert planted in result.stdout, result.stdout
    assert not (ROOT / module).exists()
