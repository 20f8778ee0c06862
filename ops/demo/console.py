"""What the person running the demo sees: one line per step, a live progress bar with turnout
while ballots are cast, then the result and the verifier's verdict as tables (rich, which typer
already brings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ops.demo.casting import TurnoutSample
from ops.demo.outcome import DemoOutcome


@dataclass
class CastingDisplay:
    progress: Progress
    task: TaskID

    def receipt(self, done: int) -> None:
        self.progress.update(self.task, completed=done)

    def turnout(self, sample: TurnoutSample) -> None:
        share = 100 * sample.ballots / max(sample.roll_size, 1)
        text = f"turnout {sample.ballots}/{sample.roll_size} ({share:.1f} %)"
        self.progress.update(self.task, turnout=text)

    def event(self, text: str) -> None:
        self.progress.console.print(f"  [yellow]![/] {escape(text)}", soft_wrap=True)


class DemoConsole:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def step(self, text: str) -> None:
        self.console.print(f"[bold cyan]>[/] {escape(text)}", soft_wrap=True)

    def note(self, text: str) -> None:
        """Unwrapped and without markup: notes hold commands to copy."""
        self.console.print(f"  {text}", soft_wrap=True, markup=False)

    @contextmanager
    def casting(self, total: int) -> Iterator[CastingDisplay]:
        progress = Progress(
            TextColumn("  receipts"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[turnout]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        with progress:
            yield CastingDisplay(progress, progress.add_task("cast", total=total, turnout="turnout -"))

    def result(self, outcome: DemoOutcome) -> None:
        for contest in outcome.contests:
            table = Table(title=contest.title, title_justify="left")
            table.add_column("choice")
            table.add_column("votes", justify="right")
            table.add_column("chosen", justify="right")
            for row in zip(contest.choices, contest.recorded, contest.expected, strict=True):
                table.add_row(row[0], str(row[1]), str(row[2]))
            self.console.print(table)
        turnout = Table(title="Turnout", title_justify="left")
        for column in ("district", "roll", "ballots", "turnout"):
            turnout.add_column(column, justify="left" if column == "district" else "right")
        for group in outcome.groups:
            share = 100 * group.ballots / max(group.roll_size, 1)
            turnout.add_row(group.group, str(group.roll_size), str(group.ballots), f"{share:.1f} %")
        total_share = 100 * outcome.ballots_counted / outcome.roll_size
        turnout.add_row("all", str(outcome.roll_size), str(outcome.ballots_counted), f"{total_share:.1f} %")
        self.console.print(turnout)
        fingerprints = Table(title="Ledger fingerprints", title_justify="left")
        for column in ("node", "height", "block hash", "app hash"):
            fingerprints.add_column(column)
        for f in outcome.fingerprints:
            fingerprints.add_row(f.node, str(f.height), f.block_hash.hex()[:16], f.app_hash.hex()[:16])
        self.console.print(fingerprints)

    def verdict(self, outcome: DemoOutcome) -> None:
        self.console.print(outcome.verdict.text, markup=False)
        checks = [
            ("verifier", outcome.verdict.passed),
            ("result equals the voters' choices", outcome.result_matches),
            ("ledgers agree at the fingerprint height", outcome.fingerprints_agree),
        ]
        for name, held in checks:
            self.console.print(f"  {'[green]pass[/]' if held else '[red]FAIL[/]'}  {name}")
        timings = ", ".join(f"{p.name} {p.seconds:.1f} s" for p in outcome.phases)
        self.console.print(f"  time: {timings}", soft_wrap=True)
