"""`votestore notices …`: plan campaigns, send them, read delivery reports, opt voters out.

Run by the credential authority (the party that holds the outbox of `votestore roll import`).
The queue's passphrase comes from VOTESTORE_NOTICES_PASSPHRASE, never from the command line (a
command line is visible to every user of the machine). Logs are `key=value` and carry
idempotency keys, never addresses, texts or links. Docs: docs/notices.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notices.config import NoticesConfig, load_config
from notices.delivery import Delivery, RunResult, poll_reports
from notices.metrics import NoticeMetrics
from notices.model import Kind
from notices.outbox import read_contacts, read_outbox
from notices.plan import plan as plan_campaign
from notices.senders.base import ReportReader
from notices.store import NoticeStore, Summary
from notices.targeting import voted_keys
from notices.templates import Renderer, SmsRules
from ops.cli.nodecall import ElectionOpt, NodesOpt, edge, node_client
from votestore.errors import ConfigError

PASSPHRASE_ENV: Final = "VOTESTORE_NOTICES_PASSPHRASE"

app = typer.Typer(
    help="Personal links and reminders by SMS and mail (credential authority).", no_args_is_help=True
)

StoreOpt = Annotated[
    Path, typer.Option("--store", help="The notice queue (SQLite file; messages sealed at rest).")
]
ConfigOpt = Annotated[Path, typer.Option("--config", help="Sender config (TOML, docs/notices.md).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")]


def _passphrase() -> str:
    value = os.environ.get(PASSPHRASE_ENV, "")
    if not value:
        raise ConfigError(f"set {PASSPHRASE_ENV} to the notice store's passphrase")
    return value


def _open(store: Path, *, create: bool = False) -> NoticeStore:
    return NoticeStore.open(store, _passphrase(), create=create)


def _print_summary(summary: Summary, as_json: bool, extra: dict[str, object] | None = None) -> None:
    fields = {**summary.as_dict(), **(extra or {})}
    if as_json:
        typer.echo(json.dumps(fields, sort_keys=True))
        return
    for name, value in fields.items():
        typer.echo(f"{name:>16}: {value}")


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command("plan")
def plan(
    store: StoreOpt,
    election: ElectionOpt,
    kind: Annotated[Kind, typer.Option("--kind", help="Campaign kind.")],
    outbox: Annotated[Path, typer.Option("--outbox", help="The outbox of `votestore roll import`.")],
    contacts: Annotated[Path, typer.Option("--contacts", help="CSV: voter_id, phone, email[, lang].")],
    node: NodesOpt = [],  # noqa: B006  (typer reads the default; never mutated)
    config: Annotated[Path | None, typer.Option("--config", help="For the SMS length rules.")] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Template directory (default: the built-in ones).")
    ] = None,
    closes: Annotated[str, typer.Option("--closes", help="When voting closes, as voters read it.")] = "",
    result: Annotated[str, typer.Option("--result", help="Where the result is published.")] = "",
    name: Annotated[str, typer.Option("--name", help="Tell two campaigns of one kind apart.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Render and queue a campaign; a reminder reads who has voted from the ledger (--node)."""
    with edge():
        rules = load_config(config).rules if config else SmsRules()
        renderer = Renderer(templates, rules) if templates else Renderer(rules=rules)
        voted = None
        if kind is Kind.REMINDER:
            if not node:
                raise ConfigError("a reminder reads the ledger: give --node")
            with node_client(node) as client:
                voted = voted_keys(client, election)
        queue = _open(store, create=True)
        try:
            done = plan_campaign(
                queue,
                renderer,
                election,
                kind,
                read_outbox(outbox),
                read_contacts(contacts),
                {"closes": closes, "result": result},
                name=name,
                voted=voted,
            )
        finally:
            queue.close()
        fields = {
            "campaign": done.campaign,
            "queued": done.queued,
            "opted_out": done.opted_out,
            "already_queued": done.already_queued,
            "skipped_voted": done.skipped_voted,
            "no_contact": done.no_contact,
        }
        if as_json:
            typer.echo(json.dumps(fields, sort_keys=True))
        else:
            typer.echo(" ".join(f"{k}={v}" for k, v in fields.items()))


def run_delivery(
    store: Path, config: NoticesConfig, seed: int | None, metrics: NoticeMetrics, show_progress: bool
) -> RunResult:
    """One `send` run, shared by the command and the demo."""
    queue = _open(store)
    senders = config.senders()

    async def go() -> RunResult:
        try:
            if not show_progress:
                return await Delivery(
                    queue, senders, config.policy, rng=random.Random(seed), metrics=metrics
                ).run()
            progress = Progress(
                TextColumn("notices"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            total = queue.summary().as_dict()["total"]
            task = progress.add_task("send", total=int(str(total)))

            def update() -> None:
                s = queue.summary().as_dict()
                progress.update(task, completed=int(str(s["total"])) - int(str(s["pending"])))

            with progress:
                update()
                delivery = Delivery(
                    queue, senders, config.policy, rng=random.Random(seed), metrics=metrics, on_change=update
                )
                return await delivery.run()
        finally:
            for sender in senders.values():
                await sender.close()

    try:
        return asyncio.run(go())
    finally:
        queue.close()


@app.command("send")
def send(
    store: StoreOpt,
    config: ConfigOpt,
    as_json: JsonOpt = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the retry jitter (tests).")] = None,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="Serve Prometheus metrics on 127.0.0.1 (0: off).")
    ] = 0,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Send every queued notice (resuming after a crash), then print the summary."""
    with edge():
        _setup_logging()
        loaded = load_config(config)
        metrics = NoticeMetrics()
        if metrics_port:
            metrics.serve(metrics_port, "127.0.0.1")
        done = run_delivery(store, loaded, seed, metrics, progress and not as_json)
        _print_summary(done.summary, as_json, {"recovered_in_flight": done.recovered})


@app.command("reports")
def reports(store: StoreOpt, config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Poll delivery reports once for every notice a provider accepted, then print the summary."""
    with edge():
        _setup_logging()
        loaded = load_config(config)
        queue = _open(store)
        senders = loaded.senders()
        readers = {c: s for c, s in senders.items() if isinstance(s, ReportReader)}

        async def go() -> int:
            try:
                return await poll_reports(queue, readers)
            finally:
                for sender in senders.values():
                    await sender.close()

        try:
            changed = asyncio.run(go())
            _print_summary(queue.summary(), as_json, {"reports_applied": changed})
        finally:
            queue.close()


@app.command("opt-out")
def opt_out(store: StoreOpt, voter: Annotated[str, typer.Argument(help="Voter id.")]) -> None:
    """Stop all notices to a voter, queued now or planned later."""
    with edge():
        queue = _open(store)
        try:
            stopped = queue.opt_out(voter)
        finally:
            queue.close()
        typer.echo(f"voter {voter}: opted out ({stopped} queued notices stopped)")


@app.command("summary")
def summary(
    store: StoreOpt,
    campaign: Annotated[str, typer.Option("--campaign", help="One campaign (default: all).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Sent, delivered, failed by reason, pending."""
    with edge():
        queue = _open(store)
        try:
            _print_summary(queue.summary(campaign or None), as_json)
        finally:
            queue.close()
