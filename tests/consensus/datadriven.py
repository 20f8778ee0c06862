"""A small driver for rule scripts kept as data files, in the manner of etcd's datadriven tests.

A file under `testdata/` holds parts and cases, each a header line and the script under it:

    # a comment (kept on rewrite)
    part lock_on_a                         a script other cases start with; not run alone
    start
      timeout propose h=1 r=0 300ms        indented: the exact actions the event above produces
    case line22_locked_gets_nil after=lock_on_a,round_0_fails height=1
    proposal h=1 r=1 vr=-1 from=2 B
      persist prevote h=1 r=1 nil lock=0:A valid=0:A proof=3
    ? state h=1 r=1 step=prevote           a check, compared as the core reports it

Each case runs on a fresh `Harness` (validator 0 of 4, at `height`), fed its parts then its own
lines. With `REWRITE=1` (or `pytest --rewrite`) every expected block and `?` line is written back
as the core now produces it, so a deliberate change is one run and a reviewed diff.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from tests.consensus.script import Harness

TESTDATA = Path(__file__).parent / "testdata"


@dataclass
class Entry:
    """One unindented line and what must follow it (actions, or the `?` line itself)."""

    line: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Section:
    kind: str  # "part" or "case"
    name: str
    options: dict[str, str]
    entries: list[Entry] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # comment and blank lines before the header
    trailer: list[str] = field(default_factory=list)  # comments after the last section


def parse(text: str) -> list[Section]:
    sections: list[Section] = []
    pending: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            pending.append(raw)
        elif raw.startswith(("part ", "case ")):
            kind, name, *rest = raw.split()
            sections.append(Section(kind, name, dict(w.split("=", 1) for w in rest), comments=pending))
            pending = []
        elif not sections:
            raise ValueError(f"line {number}: a script line before any part or case header")
        elif raw.startswith((" ", "\t")):
            sections[-1].entries[-1].expected.append(raw.strip())
        else:
            sections[-1].entries.append(Entry(raw.strip()))
    if sections:
        while pending and not pending[-1].strip():
            pending.pop()
        sections[-1].trailer = pending
    return sections


def render(sections: list[Section]) -> str:
    lines: list[str] = []
    for section in sections:
        lines.extend(section.comments)
        options = "".join(f" {k}={v}" for k, v in section.options.items())
        lines.append(f"{section.kind} {section.name}{options}")
        for entry in section.entries:
            if entry.line.startswith("?"):
                lines.append(entry.expected[0] if entry.expected else entry.line)
            else:
                lines.append(entry.line)
                lines.extend(f"  {out}" for out in entry.expected)
        lines.extend(section.trailer)
    return "\n".join(lines) + "\n"


def run_case(sections: list[Section], name: str, *, rewrite: bool) -> None:
    """Run case `name`; compare its transcript (or, rewriting, store what it produced)."""
    parts = {s.name: s for s in sections if s.kind == "part"}
    case = next(s for s in sections if s.kind == "case" and s.name == name)
    entries = [e for p in case.options.get("after", "").split(",") if p for e in parts[p].entries]
    entries += case.entries
    harness = Harness(height=int(case.options.get("height", "1")))
    expected: list[str] = []
    actual: list[str] = []
    for entry in entries:
        produced = harness.feed(entry.line)
        want = entry.expected if not entry.line.startswith("?") else [entry.line]
        expected += [entry.line, *want]
        actual += [entry.line, *produced]
        if rewrite:
            entry.expected = produced
    if not rewrite:
        assert actual == expected, "\n" + "\n".join(
            difflib.unified_diff(expected, actual, "expected", "actual", lineterm="")
        )
