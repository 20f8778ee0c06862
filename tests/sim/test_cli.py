"""`votestore sim` through typer's CliRunner on a small app that registers it as the CLI does."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from ops.cli.sim import sim

app = typer.Typer()
app.command("sim")(sim)


@app.callback()
def _root() -> None:
    """Make `sim` a subcommand, as under `votestore`."""


def invoke(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["sim", *args])
    return result.exit_code, result.output.strip().splitlines()


def test_clean_batch_exits_zero_with_summary_last(tmp_path: Path) -> None:
    out = tmp_path / "runs.json"
    code, lines = invoke(
        "--runs",
        "20",
        "--seed",
        "5",
        "--nodes",
        "4",
        "--byzantine",
        "1",
        "--heights",
        "3",
        "--json",
        str(out),
    )
    assert code == 0
    summary = dict(field.split("=") for field in lines[-1].split())
    assert summary["runs"] == "20" and summary["violations"] == "0" and summary["failing_runs"] == "0"
    assert int(summary["heights_committed"]) >= 20 * 3
    document = json.loads(out.read_text())
    assert document["summary"]["runs"] == 20 and len(document["runs"]) == 20
    assert [run["seed"] for run in document["runs"]] == list(range(5, 25))


def test_violation_exits_one_and_prints_the_replay_command() -> None:
    code, lines = invoke("--runs", "30", "--nodes", "4", "--byzantine", "2", "--heights", "2")
    assert code == 1
    replays = [line for line in lines if line.startswith("replay: ")]
    assert replays and "votestore sim --replay" in replays[0]
    assert lines[-1].startswith("runs=30 ") and "violations=0" not in lines[-1]


def test_replay_reproduces_the_failing_seed_step_by_step() -> None:
    _, lines = invoke("--runs", "30", "--nodes", "4", "--byzantine", "2", "--heights", "2")
    replay = next(line for line in lines if line.startswith("replay: ")).removeprefix("replay: ").split()
    seed = replay[replay.index("--replay") + 1]
    agreement = next(line for line in lines if line.startswith(f"seed {seed}: agreement"))
    code, trace = invoke(*replay[2:])
    assert code == 1
    assert any("<-" in line for line in trace)  # one line per delivered message
    assert f"VIOLATION agreement: {agreement.split('agreement: ', 1)[1]}" in trace


def test_bad_arguments_are_one_line_errors() -> None:
    code, _ = invoke("--nodes", "3")
    assert code == 1
    code, _ = invoke("--byzantine", "9")
    assert code == 1
