"""The consensus rule scripts under `testdata/`: each `upon` rule of Algorithm 1 and each way an
invalid message is dropped, as events in and exact actions out (format: `datadriven.py`).

`REWRITE=1` or `pytest --rewrite` writes the actions the core now produces back into the files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.consensus.datadriven import TESTDATA, parse, render, run_case

FILES = sorted(TESTDATA.glob("*.txt"))
CASES = [
    (path, section.name) for path in FILES for section in parse(path.read_text()) if section.kind == "case"
]


def _rewrite(config: pytest.Config) -> bool:
    return bool(config.getoption("--rewrite", default=False)) or os.environ.get("REWRITE") == "1"


@pytest.mark.parametrize(("path", "case"), CASES, ids=[f"{p.stem}:{c}" for p, c in CASES])
def test_rule_script(path: Path, case: str, request: pytest.FixtureRequest) -> None:
    rewrite = _rewrite(request.config)
    sections = parse(path.read_text())
    run_case(sections, case, rewrite=rewrite)
    if rewrite:
        path.write_text(render(sections))


def test_every_file_renders_back_to_itself() -> None:
    """Parsing loses nothing a rewrite would keep: comments, parts, options and order."""
    for path in FILES:
        assert render(parse(path.read_text())) == path.read_text(), path.name


def test_the_scripts_cover_every_rule_case() -> None:
    """31 cases when the scripts moved to data files (23 rule scripts, 8 drop reasons)."""
    assert len(CASES) >= 31
    assert len({name for _, name in CASES}) == len(CASES)
