"""`votestore <group> ...` imports only that group (ops.cli.app.build), and reads exactly as the
whole app does: the same help for every group and command, the whole list for the rest."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ops.cli.app import COMMANDS, GROUPS, VERIFY_GROUPS, build

NAMES = sorted([*GROUPS, *COMMANDS, *VERIFY_GROUPS])


@pytest.mark.parametrize("name", NAMES)
def test_one_group_reads_as_in_the_whole_app(name: str) -> None:
    runner = CliRunner()
    alone = runner.invoke(build(name), [name, "--help"], prog_name="votestore")
    whole = runner.invoke(build(None), [name, "--help"], prog_name="votestore")
    assert alone.exit_code == whole.exit_code == 0, (alone.output, whole.output)
    assert alone.output == whole.output


def test_only_the_named_group_is_built_and_the_rest_lists_all() -> None:
    app = build("roll")
    assert [g.name for g in app.registered_groups] == ["roll"] and not app.registered_commands
    everything = build("--help")
    names = {g.name for g in everything.registered_groups} | {c.name for c in everything.registered_commands}
    assert names == set(NAMES)
