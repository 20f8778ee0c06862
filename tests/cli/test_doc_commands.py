"""Every `votestore …` command the operator pages name exists, with the options they give it
(issue 22: the docs must not drift from the CLI). The pages' runnable walk-through is run by
test_admin_page.py; this checks every other mention, in text and in blocks, against the typer
app's command tree, without running anything."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import pytest
import typer.main

from ops.cli.app import build

app = build()  # every group (ops.cli.app.build)

DOCS: Final = Path(__file__).resolve().parents[2] / "docs"
PAGES: Final = ("admin.md", "day2.md")
MENTION: Final = re.compile(r"votestore((?:\s+[a-z][a-z-]*)+)((?:\s+[^`\n|]*)?)")
OPTION: Final = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)")


def _is_group(command: Any) -> bool:
    """typer vendors click: its classes are not the installed click's, so groups are told apart
    by what they hold."""
    return hasattr(command, "commands")


def _resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The deepest command `words` name, and the words left over (arguments)."""
    command: Any = typer.main.get_command(app)
    used = 0
    while _is_group(command) and used < len(words):
        sub = command.commands.get(words[used])
        if sub is None:
            break
        command, used = sub, used + 1
    return command, words[used:]


def _mentions(page: str) -> list[tuple[str, Any, list[str]]]:
    found = []
    for line in (DOCS / page).read_text().splitlines():
        for match in MENTION.finditer(line):
            words = match.group(1).split()
            command, _ = _resolve(words)
            found.append((line.strip(), command, OPTION.findall(match.group(2))))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_command_a_page_names_exists_with_its_options(page: str) -> None:
    mentions = _mentions(page)
    assert mentions, f"{page} names no command"
    wrong = []
    for line, command, options in mentions:
        if _is_group(command) and options:
            wrong.append(f"{line!r}: names no command of `{command.name}`")
            continue
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        known |= {"--help", "--version"}
        wrong += [f"{line!r}: `{command.name}` has no {o}" for o in options if o not in known]
    assert not wrong, "\n".join(wrong)


def test_the_check_catches_a_wrong_option() -> None:
    command, rest = _resolve(["node", "restore", "FILE"])
    assert command.name == "restore" and rest == ["FILE"]
    known = {o for p in command.params for o in p.opts}
    assert "--watch-before-signing" in known and "--bogus" not in known
