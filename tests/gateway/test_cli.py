"""The gateway's CLI commands: config errors as one line, `cast` both ways, `receipt check`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ops.cli import cast, gateway, receipt
from tests.gateway.fake_node import ELECTION, credential
from tests.gateway.harness import Rig, rig, second_factor

cli = typer.Typer()
cli.add_typer(gateway.app, name="gateway")
cli.add_typer(receipt.app, name="receipt")
cli.command("cast")(cast.cast)
runner = CliRunner()

BAD_CONFIGS = [
    ("missing", None, "not found"),
    ("not toml", "listen = [", "unreadable"),
    ("no genesis", 'listen = "127.0.0.1:0"', "missing key 'genesis'"),
    ("typo", 'listen = "127.0.0.1:0"\ngenesis = "g.json"\nlisen = 1', "unknown keys ['lisen']"),
    ("bad listen", 'listen = "nowhere"\ngenesis = "g.json"', "must be host:port"),
    ("bad limit", 'listen = "h:1"\ngenesis = "g.json"\n[limits]\nclient_burst = 0', "client_burst must"),
    (
        "unknown limit",
        'listen = "h:1"\ngenesis = "g.json"\n[limits]\nburst = 1',
        "unknown keys ['limits.burst']",
    ),
    ("tls half", 'listen = "h:1"\ngenesis = "g.json"\n[tls]\ncert = "c"', "missing key 'tls.key'"),
    ("no transport", 'listen = "127.0.0.1:0"\ngenesis = "g.json"', "set exactly one of 'validator_cas'"),
    (
        "identity store without the provider's key",
        'listen = "127.0.0.1:0"\ngenesis = "g.json"\nidentity_store = "s"\ninsecure_plaintext = true',
        "set both 'identity_store' and 'identity_provider_key'",
    ),
    (
        "genesis absent",
        'listen = "127.0.0.1:0"\ngenesis = "g.json"\ninsecure_plaintext = true',
        "genesis file",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_one_line_and_non_zero(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    path = tmp_path / "gateway.toml"
    if text is not None:
        path.write_text(text)
    result = runner.invoke(cli, ["gateway", "run", "--config", str(path)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def test_cast_both_ways_and_check_the_receipts(tmp_path: Path) -> None:
    async def scenario(r: Rig) -> None:
        target = f"127.0.0.1:{r.running.port}"
        genesis = str(tmp_path / "genesis.json")
        for n, extra in (
            (0, ["--identity-check", second_factor(0)]),
            (1, ["--assisted", "--identity-check", second_factor(1), "--json"]),
        ):
            secret = tmp_path / f"voter{n}.key"
            secret.write_text(credential(n).hex() + "\n")
            out = tmp_path / f"receipt{n}.json"
            casting = asyncio.to_thread(
                _invoke,
                "cast",
                "--gateway",
                target,
                "--election",
                ELECTION,
                "--credential-file",
                str(secret),
                "--choose",
                "mayor=b",
                "--choose",
                "council=p,r",
                "--wait",
                "20",
                "--receipt-out",
                str(out),
                *extra,
            )
            task = asyncio.ensure_future(casting)
            await r.cluster.ledger.admitted.wait()
            r.cluster.ledger.admitted.clear()
            await r.cluster.ledger.commit()
            await r.cluster.ledger.commit()
            code, output = await task
            assert code == 0, output
            if "--json" not in extra:
                assert "receipt COMMITTED in block" in output
            else:  # one JSON object, the report's facts (issue 22: --json on every report)
                report = json.loads(output)
                assert report["election_id"] == ELECTION and report["status"] == "COMMITTED"
                assert len(bytes.fromhex(report["tracking_code"])) == 32
                assert report["height"] >= 1 and report["receipt_file"] == str(out)
                assert credential(n).hex() not in output, "the credential is never in a report"
            code, output = await asyncio.to_thread(
                _invoke, "receipt", "check", "--genesis", genesis, "--require-result", str(out)
            )
            assert code == 0, output
            assert output.startswith("ok: ballot ") and "result OK (certified)" in output
            code, output = await asyncio.to_thread(
                _invoke, "receipt", "check", "--genesis", genesis, "--require-result", "--json", str(out)
            )
            assert code == 0, output
            checked = json.loads(output)
            assert checked["ok"] is True and checked["result"] == "OK", checked
            assert checked["election_id"] == ELECTION and len(bytes.fromhex(checked["tracking_code"])) == 32

            document = json.loads(out.read_text())
            document["proof"]["header"]["timeMs"] = str(int(document["proof"]["header"]["timeMs"]) + 1)
            out.write_text(json.dumps(document))
            code, output = await asyncio.to_thread(
                _invoke, "receipt", "check", "--genesis", genesis, str(out)
            )
            assert code == 1 and output.startswith("error: receipt does not check: block certificate")

    async def main() -> None:
        async with rig(tmp_path) as r:
            await scenario(r)

    asyncio.run(main())


CHECK = ["--identity-check", "1980-01-01"]
CAST_ERRORS = [
    ("no identity", ["--assisted"], "needs --identity-check"),
    ("no identity, own device", ["--choose", "mayor=a"], "needs --identity-check"),
    ("wrong identity", ["--identity-check", "1999-12-31", "--choose", "mayor=a"], "UNAUTHENTICATED"),
    ("bad choice", [*CHECK, "--choose", "mayor=zed"], "has no choice 'zed'; its choices are: a, b, c"),
    (
        "bad contest",
        [*CHECK, "--choose", "sheriff=a"],
        "no contest 'sheriff' in election 'e1'; its contests are: mayor, council",
    ),
    ("no choice", [*CHECK], "contest 'mayor' takes 1..1 selections, got 0; its choices are: a, b, c"),
    ("over-vote", [*CHECK, "--choose", "mayor=a,b"], "contest 'mayor' takes 1..1 selections, got 2"),
    ("bad syntax", [*CHECK, "--choose", "mayor"], "expected CONTEST=CHOICE"),
]


@pytest.mark.parametrize(("name", "extra", "message"), CAST_ERRORS, ids=[c[0] for c in CAST_ERRORS])
def test_cast_errors_are_one_line(tmp_path: Path, name: str, extra: list[str], message: str) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            secret = tmp_path / "voter.key"
            secret.write_text(credential(0).hex())
            args = ["cast", "--gateway", f"127.0.0.1:{r.running.port}", "--election", ELECTION]
            args += ["--credential-file", str(secret), *extra]
            code, output = await asyncio.to_thread(_invoke, *args)
            assert code == 1 and output.startswith("error: ") and message in output, output
            assert len(output.strip().splitlines()) == 1
            assert r.cluster.ledger.mempool == {}

    asyncio.run(main())
