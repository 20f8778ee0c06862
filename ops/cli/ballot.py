"""`votestore ballot audit`: check an audited ballot from the voter page with a second,
independent implementation (votestore/client/audit.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from votestore.client.audit import check_audit, read_audit
from votestore.errors import VotestoreError

app = typer.Typer(help="Check ballots audited in the voter page (cast-or-audit).", no_args_is_help=True)


@app.command("audit")
def audit(
    record: Path = typer.Argument(..., help="The audit file the voter page saved (JSON)."),
    as_json: JsonOpt = False,
) -> None:
    """Check that the audited ballot's proofs hold and that, nonce by nonce, it encrypts exactly the
    choices the page showed. Compare its election_key with the validators' before trusting it."""
    try:
        checked = check_audit(read_audit(record))
    except VotestoreError as exc:
        fail(f"audit failed: {exc}")
    if as_json:
        echo_json({"ok": True, "election_id": checked.election_id, "choices": checked.choices})
        return
    typer.echo(f"ok: audited ballot of election {checked.election_id!r} encrypts the choices shown:")
    for contest, choices in checked.choices.items():
        typer.echo(f"  {contest}: {', '.join(choices) if choices else '(none)'}")
