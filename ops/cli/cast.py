"""`votestore cast`: cast a ballot through a gateway and wait for its receipt.

By default the ballot is encrypted, proved and signed here, so the credential never leaves this
machine: the identity provider (served beside the gateway) gets the identity check, the voter's
public key and the encrypted ballot's hash, and attests that one ballot; the ballot then goes to
the gateway. `--assisted` sends the credential, the identity check and the choices to the gateway
instead (for thin clients: that gateway could vote for the voter; docs/gateway.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from ops.cli.nodecall import Outcome
from proto.votestore.v1 import gateway_pb2
from votestore.client.ballot import selections_by_choice_id
from votestore.client.gateway_client import GatewayClient
from votestore.client.receipts import write_receipt
from votestore.crypto.credential import CREDENTIAL_SECRET_BYTES
from votestore.errors import ConfigError, VotestoreError

DEFAULT_WAIT_S: Final = 60.0


def read_credential(path: Path) -> bytes:
    """A credential file holds the voter's 32-byte secret as hex (what the personal link carries)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"credential file {path} unreadable: {exc.strerror}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"credential file {path} is not hex") from None
    if len(secret) != CREDENTIAL_SECRET_BYTES:
        raise ConfigError(f"credential file {path} must hold {CREDENTIAL_SECRET_BYTES} bytes")
    return secret


def parse_choices(items: list[str]) -> dict[str, list[str]]:
    """`mayor=alice` and `council=p,q` -> {"mayor": ["alice"], "council": ["p", "q"]}; `council=` is none."""
    chosen: dict[str, list[str]] = {}
    for item in items:
        contest, sep, choices = item.partition("=")
        if not sep or not contest:
            raise ConfigError(f"--choose {item!r}: expected CONTEST=CHOICE[,CHOICE...]")
        if contest in chosen:
            raise ConfigError(f"--choose: contest {contest!r} given twice")
        chosen[contest] = [c for c in choices.split(",") if c]
    return chosen


async def _cast(
    target: str,
    root_certificates: bytes | None,
    election_id: str,
    credential: bytes,
    chosen: dict[str, list[str]],
    identity_check: str,
    assisted: bool,
    identity_target: str | None,
    wait_s: float,
    receipt_out: Path | None,
    out: Outcome,
) -> dict[str, object]:
    """Cast, then wait for the receipt; the facts of the report (`--json`)."""
    async with GatewayClient(
        target, root_certificates=root_certificates, identity_target=identity_target
    ) as client:
        info = await client.election(election_id)
        selections = selections_by_choice_id(info.state.definition, chosen)
        if not assisted:
            cast = await client.cast(election_id, credential, selections, identity_check)
        else:
            cast = await client.cast_assisted(election_id, credential, identity_check, selections)
        first = gateway_pb2.ReceiptStatus.Name(cast.status)
        out.say(f"tracking code {cast.tracking_code.hex()} {first}")
        facts: dict[str, object] = {
            "election_id": election_id,
            "tracking_code": cast.tracking_code.hex(),
            "status": first,
            "height": None,
            "receipt_file": None,
        }
        if wait_s <= 0:
            return facts
        response = await client.wait_receipt(cast.tracking_code, wait_s)
        status = gateway_pb2.ReceiptStatus.Name(response.status)
        if not response.HasField("receipt"):
            fail(f"no receipt within {wait_s:.0f}s (status {status}); ask again with the tracking code")
        height = response.receipt.proof.header.height
        out.say(f"receipt {status} in block {height}")
        facts.update(status=status, height=height)
        if receipt_out is not None:
            write_receipt(receipt_out, response.receipt)
            out.say(f"receipt written to {receipt_out}")
            facts["receipt_file"] = str(receipt_out)
        return facts


def cast(
    gateway: str = typer.Option(..., "--gateway", help="Gateway host:port."),
    election: str = typer.Option(..., "--election", help="Election id."),
    credential_file: Path = typer.Option(
        ..., "--credential-file", help="File with the 32-byte secret in hex."
    ),
    choose: list[str] = typer.Option([], "--choose", help="CONTEST=CHOICE[,CHOICE...]; repeat per contest."),
    assisted: bool = typer.Option(
        False, "--assisted", help="Let the gateway encrypt and sign (thin client)."
    ),
    identity_check: str = typer.Option(
        "",
        "--identity-check",
        envvar="VOTESTORE_IDENTITY_CHECK",
        help="The second factor the identity provider checks before it attests the ballot.",
    ),
    identity_provider: str | None = typer.Option(
        None,
        "--identity-provider",
        help="host:port of the identity provider when it runs apart from the gateway.",
    ),
    tls_ca: Path | None = typer.Option(None, "--tls-ca", help="CA certificate: use TLS to the gateway."),
    wait: float = typer.Option(DEFAULT_WAIT_S, "--wait", help="Seconds to wait for the receipt (0: do not)."),
    receipt_out: Path | None = typer.Option(None, "--receipt-out", help="Write the receipt (JSON) here."),
    as_json: JsonOpt = False,
) -> None:
    """Encrypt, sign and cast a ballot through a gateway, and wait for its receipt."""
    out = Outcome(as_json)
    try:
        if not identity_check:
            raise ConfigError("casting needs --identity-check (or VOTESTORE_IDENTITY_CHECK)")
        root = tls_ca.read_bytes() if tls_ca is not None else None
        facts = asyncio.run(
            _cast(
                gateway,
                root,
                election,
                read_credential(credential_file),
                parse_choices(choose),
                identity_check,
                assisted,
                identity_provider,
                wait,
                receipt_out,
                out,
            )
        )
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    except VotestoreError as exc:
        fail(str(exc))
    if as_json:  # the ballot is the gateway's transaction: no `transactions` list here
        echo_json(facts)
