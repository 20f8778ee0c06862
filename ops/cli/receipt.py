"""`votestore receipt check`: a voter's offline check of a ballot receipt, with the genesis file alone."""

from __future__ import annotations

from pathlib import Path

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from proto.votestore.v1 import election_pb2
from votestore.client.receipts import check_receipt, read_receipt
from votestore.errors import VotestoreError
from votestore.genesis import load_genesis

app = typer.Typer(help="Check ballot receipts offline.", no_args_is_help=True)


@app.command("check")
def check(
    receipt: Path = typer.Argument(..., help="Receipt file (JSON, as `votestore cast` writes it)."),
    genesis: Path = typer.Option(..., "--genesis", help="The chain's genesis file."),
    require_result: bool = typer.Option(
        False, "--require-result", help="Also require the next block, which certifies the ballot's result."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Check the block's commit certificate against the genesis validators and the ballot's inclusion."""
    try:
        checked = check_receipt(load_genesis(genesis), read_receipt(receipt), require_result=require_result)
    except VotestoreError as exc:
        fail(f"receipt does not check: {exc}")
    if as_json:
        echo_json(
            {
                "ok": True,
                "tracking_code": checked.tracking_code.hex(),
                "election_id": checked.election_id,
                "height": checked.height,
                "result": None
                if checked.result is None
                else election_pb2.ResultCode.Name(checked.result.code),
            }
        )
        return
    if checked.result is None:
        outcome = "result not yet certified"
    else:
        outcome = f"result {election_pb2.ResultCode.Name(checked.result.code)} (certified)"
    typer.echo(
        f"ok: ballot {checked.tracking_code.hex()} of election {checked.election_id!r} "
        f"is in block {checked.height}; {outcome}"
    )
