"""`votestore web serve|check`: the voter page's static origin, and the check anyone can run that
a page origin serves the bundle the election definition names (docs/web.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.nodecall import edge
from ops.web.bundle import read_built_page
from ops.web.origin import PageOrigin, serve_page
from votestore.genesis import load_genesis
from votestore.netaddr import host_of

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
) -> None:
    """Serve a built page folder as the page's own origin, apart from the gateway: only the files
    its manifest lists (checked at start), with a Content-Security-Policy that runs the bundle alone."""
    with edge():
        load_genesis(genesis)  # refuse a file that is not a genesis before serving it to voters
        page = read_built_page(folder)
        origin = PageOrigin(page, bridge.rstrip("/"), genesis.read_bytes())

        def ready(port: int) -> None:
            address = f"http://{host_of(listen)}:{port}/"
            sys.stdout.write(f"voter page on {address} (app_bundle_sha256 {page.app_bundle_sha256})\n")
            sys.stdout.flush()

        asyncio.run(serve_page(origin, listen, ready))
