"""`votestore ballot audit`: check an audited ballot from the voter page with a second,
independent implementation (votestore/client/audit.py); `votestore ballot audited`: the audited
ballots published on the ledger (votestore/client/audited.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from ops.cli.nodecall import ElectionOpt, NodesOpt, edge, node_client
from votestore.client.audit import check_audit, read_audit
from votestore.client.audited import published_audits
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


@app.command("audited")
def audited(election: ElectionOpt, nodes: NodesOpt, as_json: JsonOpt = False) -> None:
    """List the audited ballots published on the ledger for an election (never cast), each opened
    again here from its nonces. Reads every committed block from the node."""
    with edge(), node_client(nodes) as client:
        found = published_audits(client, election)
    if as_json:
        echo_json(
            {
                "election_id": election,
                "audited": [
                    {
                        "tracking_code": a.tracking_code.hex(),
                        "height": a.height,
                        "voter": a.voter.hex(),
                        "choices": a.choices,
                        "opens": a.problem is None,
                        "problem": a.problem,
                    }
                    for a in found
                ],
            }
        )
        return
    typer.echo(f"{len(found)} audited ballot(s) published for election {election!r}:")
    for a in found:
        shown = "; ".join(f"{c}: {', '.join(ids) if ids else '(none)'}" for c, ids in a.choices.items())
        verdict = shown if a.problem is None else f"PROBLEM: {a.problem}"
        typer.echo(f"  {a.tracking_code.hex()} height {a.height} voter {a.voter.hex()[:16]}…  {verdict}")
