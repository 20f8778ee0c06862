"""`votestore election create|open|close|show`: the administrator's view of one election.

Every changing command signs with the admin key, submits through `--node` (failing over), waits
for the commit and says the outcome; a refusal names its reason code (`NOT_AUTHORIZED`,
`KEYGEN_INCOMPLETE`, ...). `show` reads the public state only and needs no key.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.common import JsonOpt, read_key
from ops.cli.definition import read_definition
from ops.cli.nodecall import AdminKeyOpt, ElectionOpt, NodesOpt, Outcome, WaitOpt, commit, edge, node_client
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.node import COMMIT_TIMEOUT_S
from votestore.errors import VotestoreError
from votestore.keygen_schedule import OPEN_MARGIN_MS, open_allowed_from_ms

MAX_OPEN_WAIT_S = 120
"""`election open` waits for the end of the complaint window when it is at most this far away."""

app = typer.Typer(help="Create, open, close and show elections (admin).", no_args_is_help=True)

Summary = dict[str, object]


@app.command("create")
def create(
    node: NodesOpt,
    admin_key: AdminKeyOpt,
    definition: Annotated[Path, typer.Option("--definition", help="Election definition (TOML).")],
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Create an election from a definition file; prints its id and the transaction hash."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        key = read_key(admin_key)
        record = read_definition(definition, int(time.time() * 1000))
        out.say(f"election {record.election_id}")
        raw = txbuild.election_create(client.chain_id(), key, record)
        commit(client, raw, f"create {record.election_id}", wait, out=out)
        out.say(f"election {record.election_id} created; trustees deal next, then `election open`")
    out.done(election_id=record.election_id, outcome="created")


@app.command("open")
def open_(
    node: NodesOpt,
    admin_key: AdminKeyOpt,
    election: ElectionOpt,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Open an election whose key generation finished (deals, then the complaint window): freezes
    the roll, fixes the election key. Waits for the window's end if it is near."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        key = read_key(admin_key)
        state = client.election(election)
        enough = len(state.qualified_dealers) >= state.definition.threshold
        if state.phase == election_pb2.KEY_GENERATION and enough:  # else the chain says why not
            _wait_for_complaints(open_allowed_from_ms(state), out)
        raw = txbuild.open_election(client.chain_id(), key, election)
        commit(client, raw, f"open {election}", wait, due=True, out=out)
    out.done(election_id=election, outcome="opened")


@app.command("close")
def close(
    node: NodesOpt,
    admin_key: AdminKeyOpt,
    election: ElectionOpt,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Close an open election before its window ends; trustees decrypt next."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        key = read_key(admin_key)
        raw = txbuild.close_election(client.chain_id(), key, election)
        proof = commit(client, raw, f"close {election}", wait, out=out)
        out.say(f"tally height {proof.header.height}; trustees run `trustee decrypt` next")
    out.done(election_id=election, outcome="closed", tally_height=proof.header.height)


def _wait_for_complaints(from_ms: int, out: Outcome) -> None:
    wait_s = (from_ms + OPEN_MARGIN_MS) / 1000 - time.time()
    if wait_s <= 0:
        return
    if wait_s > MAX_OPEN_WAIT_S:
        raise VotestoreError(f"key generation runs until {_iso(from_ms)} (deals, then complaints): open then")
    out.say(f"complaints are heard until {_iso(from_ms)}; opening then")
    time.sleep(wait_s)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def summary(state: election_pb2.ElectionState) -> Summary:
    """The public facts of an election as plain data (what `show --json` prints)."""
    record = state.definition
    view: Summary = {
        "election_id": record.election_id,
        "title": record.title,
        "phase": election_pb2.Phase.Name(state.phase),
        "window_start": _iso(record.window_start_ms),
        "window_end": _iso(record.window_end_ms),
        "opens_from": _iso(open_allowed_from_ms(state)),
        "threshold": record.threshold,
        "trustees": [t.name for t in record.trustees],
        "qualified_dealers": list(state.qualified_dealers),
        "roll_size": state.roll_size,
        "ballots": state.ballots,
        "turnout": [
            {"group": t.group, "roll_size": t.roll_size, "ballots": t.ballots} for t in state.turnout
        ],
        "tally_height": state.tally_height,
        "app_bundle_sha256": record.app_bundle_sha256.hex() or None,
    }
    if state.phase == election_pb2.COUNTED:
        result = state.result
        assert len(result.contests) == len(record.contests)
        view["result"] = {
            "ballots_counted": result.ballots_counted,
            "trustees": list(result.trustees),
            "contests": {
                contest.id: {
                    choice.id: count for choice, count in zip(contest.choices, counted.counts, strict=True)
                }
                for contest, counted in zip(record.contests, result.contests, strict=True)
            },
        }
    return view


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render(state: election_pb2.ElectionState) -> str:
    view = summary(state)
    record = state.definition
    lines = [
        f"election   {record.election_id}  {record.title}",
        f"phase      {view['phase']}",
        f"window     {view['window_start']} .. {view['window_end']}",
        f"trustees   {len(record.trustees)} (threshold {record.threshold}), "
        f"qualified dealers {list(state.qualified_dealers) or 'none yet'}",
        f"roll       {state.roll_size} voters in {state.roll_batches} batches",
        f"ballots    {state.ballots} ({_percent(state.ballots, state.roll_size)} turnout)",
        f"voter page {record.app_bundle_sha256.hex() or 'none named (CLI and SDK casting only)'}",
    ]
    for turnout in state.turnout:
        name = turnout.group or "(all)"
        share = _percent(turnout.ballots, turnout.roll_size)
        lines.append(f"  {name:<20} {turnout.ballots:>8} of {turnout.roll_size:<8} {share}")
    if state.tally_height:
        lines.append(f"tally at   block {state.tally_height}")
    if state.phase == election_pb2.COUNTED:
        lines.append(
            f"result     {state.result.ballots_counted} ballots counted, "
            f"trustees {list(state.result.trustees)}"
        )
        for contest, counted in zip(record.contests, state.result.contests, strict=True):
            lines.append(f"  {contest.title or contest.id}")
            for choice, count in zip(contest.choices, counted.counts, strict=True):
                lines.append(f"    {choice.label or choice.id:<30} {count:>8}")
    return "\n".join(lines)


@app.command("show")
def show(
    node: NodesOpt,
    election: ElectionOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Show an election's phase, window, roll, turnout per group and, once counted, the result."""
    with edge(), node_client(node) as client:
        state = client.election(election)
    typer.echo(json.dumps(summary(state), indent=1) if as_json else render(state))
