"""`votestore demo`: a whole test election on a local cluster in one command (the README's first)."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path
from typing import Annotated, Final

import typer

from ops.cli.common import fail
from ops.demo import DemoOptions, KeptCluster, run_demo
from ops.demo.console import DemoConsole
from ops.demo.options import DEFAULT_NODES, DEFAULT_VOTERS
from votestore.errors import VotestoreError

EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130
"""128 + SIGINT, as a shell reports a command stopped by Ctrl-C."""


def _kept(ui: DemoConsole, kept: KeptCluster) -> None:
    ui.step("the cluster keeps running (--keep)")
    nodes = " ".join(f"--node {a}" for a in kept.node_addresses)
    lines = [
        f"workdir      {kept.workdir}",
        f"genesis      {kept.genesis}",
        f"validators   {', '.join(kept.node_addresses)}",
        f"gateway      {kept.gateway}",
        f"identity-provider {kept.identity_provider}",
        "",
        "cast by hand into the open 'practice' election (credential files hold a voter's secret):",
        f"  votestore cast --gateway {kept.gateway} --identity-provider {kept.identity_provider} "
        f"--election practice --identity-check {kept.practice_identity_checks[0]} "
        f"--credential-file {kept.practice_credentials[0]} --choose mayor=ada --choose council=john "
        f"--receipt-out {kept.workdir / 'receipt.json'}",
        f"  votestore cast --gateway {kept.gateway} --election practice --assisted "
        f"--identity-check {kept.practice_identity_checks[1]} "
        f"--credential-file {kept.practice_credentials[1]} --choose mayor=grace",
        f"  votestore receipt check --genesis {kept.genesis} --require-result "
        f"{kept.workdir / 'receipt.json'}",
        *(
            [
                f"vote in the browser: open the personal link in {kept.practice_links[0]} "
                f"(identity check {kept.practice_identity_checks[0]}); page {kept.page}/",
                "check that the page serves the bundle the election definition names:",
                f"  votestore web check {nodes} --election practice --url {kept.page}/",
            ]
            if kept.practice_links
            else []
        ),
        "verify every node:",
        f"  votestore verify --genesis {kept.genesis} --insecure-plaintext {nodes}",
        "stop everything:",
        f"  kill {' '.join(str(p) for p in kept.pids)}",
    ]
    for line in lines:
        ui.note(line)


def demo(
    voters: Annotated[int, typer.Option("--voters", help="Voters on the roll.")] = DEFAULT_VOTERS,
    nodes: Annotated[int, typer.Option("--nodes", help="Validators (at least 4).")] = DEFAULT_NODES,
    workdir: Annotated[
        Path | None,
        typer.Option("--workdir", help="New or empty directory for keys, ledgers, logs and the report."),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave the cluster and gateway running and say how to use them.")
    ] = False,
) -> None:
    """Run a whole test election on a local cluster: exit 0 only if the verifier passes and the
    result equals the voters' choices."""
    ui = DemoConsole()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        where = workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="votestore-demo-"))
        run = run_demo(DemoOptions(where, voters=voters, nodes=nodes, keep=keep), ui)
    except KeyboardInterrupt:
        fail("interrupted; every process the demo started was stopped", EXIT_INTERRUPTED)
    except VotestoreError as exc:
        fail(f"demo stopped: {exc}", EXIT_FAILED)
    except OSError as exc:
        fail(f"demo stopped: {exc.filename or ''}: {exc.strerror}", EXIT_FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    ui.result(run.outcome)
    ui.verdict(run.outcome)
    ui.step(f"report: {run.report}")
    if run.kept is not None:
        _kept(ui, run.kept)
    if not run.outcome.ok:
        fail("the demo election did not check out (see above)", EXIT_FAILED)
