"""`votestore web serve|check`: the voter page's static origin, and the check anyone can run that
a page origin serves the bundle the election definition names (docs/web.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.common import JsonOpt, echo_json, fail
from ops.cli.nodecall import ElectionOpt, edge, node_client
from ops.web.bundle import BundleError, read_built_page
from ops.web.check import Checked, check_file, check_url
from ops.web.origin import PageOrigin, check_tls_files, serve_page
from votestore.genesis import load_genesis
from votestore.netaddr import host_of, is_local_only

app = typer.Typer(
    help="Serve the voter page, and check a served page against the ledger.", no_args_is_help=True
)

DirOpt = Annotated[Path, typer.Option("--dir", help="The built page (web/dist, with its manifest.json).")]


@app.command("serve")
def serve(
    folder: DirOpt,
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve the page on.")],
    bridge: Annotated[
        str,
        typer.Option(
            "--bridge", help="The gateway's gRPC-Web bridge URL the page calls (http[s]://HOST:PORT)."
        ),
    ],
    genesis: Annotated[
        Path, typer.Option("--genesis", help="The chain's genesis file (receipts are checked against it).")
    ],
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this certificate chain (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")
    ] = None,
) -> None:
    """Serve a built page folder as the page's own origin, apart from the gateway.

    Only the files its manifest lists (checked at start), with a Content-Security-Policy that
    runs the bundle alone; HTTPS with --tls-cert/--tls-key, plain HTTP on loopback only."""
    if (tls_cert is None) != (tls_key is None):
        fail("give both --tls-cert and --tls-key, or neither")
    tls = None if tls_cert is None or tls_key is None else (tls_cert, tls_key)
    if tls is None and not is_local_only(listen):
        fail(
            f"--listen {listen} is not loopback: give --tls-cert and --tls-key "
            "(a page served over plain HTTP can be changed on the wire)"
        )
    scheme = "http" if tls is None else "https"
    with edge():
        if tls is not None:
            check_tls_files(tls)
        load_genesis(genesis)  # refuse a file that is not a genesis before serving it to voters
        page = read_built_page(folder)
        origin = PageOrigin(page, bridge.rstrip("/"), genesis.read_bytes())

        def ready(port: int) -> None:
            address = f"{scheme}://{host_of(listen)}:{port}/"
            sys.stdout.write(f"voter page on {address} (app_bundle_sha256 {page.app_bundle_sha256})\n")
            sys.stdout.flush()

        asyncio.run(serve_page(origin, listen, ready, tls))


def _ledger_hash(nodes: list[str], election: str) -> bytes:
    """The definition's app_bundle_sha256, asked of every node given; they must agree (one node
    alone could lie about the definition; ask nodes run by different commissions)."""
    seen: dict[bytes, list[str]] = {}
    for address in nodes:
        with node_client([address]) as client:
            digest = client.election(election).definition.app_bundle_sha256
        seen.setdefault(digest, []).append(address)
    if len(seen) > 1:
        told = "; ".join(f"{', '.join(at)}: {d.hex() or 'none'}" for d, at in seen.items())
        raise BundleError(f"the nodes disagree on election {election!r}'s app_bundle_sha256 ({told})")
    digest = next(iter(seen))
    if not digest:
        raise BundleError(f"election {election!r} names no app bundle (app_bundle_sha256 is unset)")
    return digest


@app.command("check")
def check(
    node: Annotated[
        list[str],
        typer.Option(
            "--node",
            envvar="VOTESTORE_NODE",
            help="HOST:PORT of a validator's public API; repeat: each is asked for the definition and "
            "all must agree (ask nodes of different commissions).",
        ),
    ],
    election: ElectionOpt,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The page's address (its index.html), e.g. https://vote.example.org/."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A bundle file at hand (app.js) to check instead.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a served page (--url) or a bundle file (--file) against the ledger's bundle hash.

    Passes when the bundle is the one whose SHA-256 the election definition names, under the
    integrity attribute browsers enforce; every --node is asked, and they must agree."""
    if url is None and file is None:
        fail("give --url (a served page) or --file (a bundle at hand), or both")
    checked: list[Checked] = []
    with edge():
        expected = _ledger_hash(node, election)
        if url is not None:
            checked.append(check_url(url, expected))
        if file is not None:
            checked.append(check_file(file, expected))
    if as_json:
        echo_json(
            {
                "ok": True,
                "election_id": election,
                "app_bundle_sha256": expected.hex(),
                "checked": [
                    {"source": c.source, "sha256": c.sha256, "integrity": c.integrity} for c in checked
                ],
            }
        )
        return
    sources = " and ".join(c.source for c in checked)
    typer.echo(f"ok: {sources} is the bundle election {election!r} names (sha256 {expected.hex()})")
