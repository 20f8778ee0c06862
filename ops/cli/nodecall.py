"""What the admin and trustee commands share: the `--node` option, the one-line error edge, and
submitting a signed transaction with a report a person can act on (hash first, then the outcome)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ops.cli.common import fail
from proto.votestore.v1 import ledger_pb2
from votestore.client.node import COMMIT_TIMEOUT_S, NodeClient
from votestore.encoding import tx_hash
from votestore.errors import VotestoreError

NodesOpt = Annotated[
    list[str],
    typer.Option(
        "--node",
        envvar="VOTESTORE_NODE",
        help="HOST:PORT of a validator's public API; repeat to fail over (env: space-separated list).",
    ),
]
ElectionOpt = Annotated[str, typer.Option("--election", help="Election id.")]
AdminKeyOpt = Annotated[Path, typer.Option("--admin-key", help="Admin key file named in genesis.")]
WaitOpt = Annotated[
    float, typer.Option("--wait", min=1.0, help="Seconds to wait for each transaction's commit.")
]


@contextmanager
def edge() -> Iterator[None]:
    """Errors raised on purpose (and file errors) become one `error: ...` line and exit 1."""
    try:
        yield
    except VotestoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))


def commit(client: NodeClient, raw: bytes, what: str, wait_s: float = COMMIT_TIMEOUT_S) -> ledger_pb2.TxProof:
    """Submit and wait; print the hash before waiting so a timed-out caller can look it up."""
    typer.echo(f"{what}: sending transaction {tx_hash(raw).hex()}")
    proof = client.commit(raw, wait_s)
    typer.echo(f"{what}: committed OK in block {proof.header.height}")
    return proof
