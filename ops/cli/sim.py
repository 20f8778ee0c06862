"""`votestore sim`: seeded schedules of the consensus core under faults, checked after every run."""

from __future__ import annotations

import dataclasses
import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

from node.sim import Simulation, make_scenario
from node.sim.batch import Summary, replay_command, run_batch
from node.sim.byzantine import FULL_FLOOD
from node.sim.ratio import RATIO_BOUND, all_mixes, ratios
from node.sim.runner import RunResult
from ops.cli.common import fail


def _result_record(result: RunResult) -> dict[str, Any]:
    record = dataclasses.asdict(result)
    record["violations"] = [dataclasses.asdict(v) for v in result.violations]
    return record


def _replay(seed: int, nodes: int, byzantine: int, heights: int) -> None:
    scenario = make_scenario(seed, nodes, byzantine, heights)
    typer.echo(f"scenario {scenario}")
    result = Simulation(scenario, trace=typer.echo).run()
    for violation in result.violations:
        typer.echo(f"VIOLATION {violation.kind}: {violation.detail}")
    summary = Summary()
    summary.add(result)
    typer.echo(summary.line())
    raise typer.Exit(1 if result.violations else 0)


def _attack_ratios(seed: int, runs: int, nodes: int, heights: int, full_flood: bool) -> None:
    worst: dict[str, float] = {}
    failed = False
    for ratio in ratios(seed, runs, nodes, heights, all_mixes(), FULL_FLOOD if full_flood else None):
        typer.echo(ratio.line())
        name = "+".join(sorted(ratio.mix))
        worst[name] = max(worst.get(name, 0.0), ratio.ratio)
        failed = failed or ratio.ratio > RATIO_BOUND or bool(ratio.attacked.violations)
    for name, value in worst.items():
        typer.echo(f"worst mix={name} ratio={value:.2f}")
    raise typer.Exit(1 if failed else 0)


def sim(
    runs: Annotated[int, typer.Option(help="Number of seeded schedules.")] = 100,
    seed: Annotated[int, typer.Option(help="First seed; run i uses seed + i.")] = 1,
    nodes: Annotated[int, typer.Option(help="Validators (n >= 4).")] = 4,
    byzantine: Annotated[int, typer.Option(help="Byzantine validators; more than f are all twins.")] = 0,
    heights: Annotated[int, typer.Option(help="Heights every honest node must commit.")] = 5,
    json: Annotated[
        Path | None, typer.Option(help="Write every run's result here as JSON ('-': print it instead).")
    ] = None,
    replay: Annotated[int | None, typer.Option(help="Re-run one seed, printing every step.")] = None,
    attack_ratio: Annotated[
        bool,
        typer.Option(
            help="Instead: for each mix of attacks, one attacker against the same fault-free schedule "
            "(--runs seeds each); print the time ratio, exit 1 if any exceeds 2 or a checker fires."
        ),
    ] = False,
    full_flood: Annotated[
        bool, typer.Option(help="With --attack-ratio: flood past the core's whole next-height buffer.")
    ] = False,
) -> None:
    """Run seeded schedules; exit 0 iff no checker found a violation."""
    if runs < 1 or heights < 1 or not 0 <= byzantine <= nodes:
        fail("need --runs >= 1, --heights >= 1 and 0 <= --byzantine <= --nodes")
    try:
        make_scenario(seed, nodes, byzantine, heights)
    except ValueError as exc:
        fail(str(exc))
    if replay is not None:
        _replay(replay, nodes, byzantine, heights)
    if attack_ratio:
        _attack_ratios(seed, runs, nodes, heights, full_flood)
    to_stdout = json is not None and str(json) == "-"

    def say(line: str) -> None:
        if not to_stdout:
            typer.echo(line)

    summary = Summary()
    records: list[dict[str, Any]] = []
    for result in run_batch(seed, runs, nodes=nodes, byzantine=byzantine, heights=heights):
        summary.add(result)
        if json is not None:
            records.append(_result_record(result))
        for violation in result.violations:
            say(f"seed {result.seed}: {violation.kind}: {violation.detail}")
        if result.violations:
            say(f"replay: {replay_command(result.seed, nodes, byzantine, heights)}")
    if json is not None:
        document = {"summary": dataclasses.asdict(summary), "runs": records}
        text = jsonlib.dumps(document, indent=1, default=lambda b: b.hex())
        if to_stdout:
            typer.echo(text)
        else:
            json.write_text(text)
    say(summary.line())
    raise typer.Exit(1 if summary.violations else 0)
