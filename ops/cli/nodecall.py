"""What the admin and trustee commands share: the `--node` option, the one-line error edge, and
submitting a signed transaction with a report a person can act on (hash first, then the outcome)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import grpc
import typer

from ops.cli.common import echo_json, fail
from proto.votestore.v1 import ledger_pb2
from votestore.channels import ValidatorDialer
from votestore.client.node import COMMIT_TIMEOUT_S, NodeClient
from votestore.encoding import tx_hash
from votestore.errors import ConfigError, VotestoreError
from votestore.genesis import load_genesis

NodesOpt = Annotated[
    list[str],
    typer.Option(
        "--node",
        envvar="VOTESTORE_NODE",
        help="HOST:PORT (or INDEX=HOST:PORT) of a validator's public API; repeat to fail over "
        "(env: space-separated list). Over TLS set VOTESTORE_VALIDATOR_CAS and VOTESTORE_GENESIS.",
    ),
]
ElectionOpt = Annotated[str, typer.Option("--election", help="Election id.")]
AdminKeyOpt = Annotated[Path, typer.Option("--admin-key", help="Admin key file named in genesis.")]
WaitOpt = Annotated[
    float, typer.Option("--wait", min=1.0, help="Seconds to wait for each transaction's commit.")
]


def node_client(nodes: list[str]) -> NodeClient:
    """A client of the validators at `nodes`: over TLS when VOTESTORE_VALIDATOR_CAS names the
    validators' CA bundle (with VOTESTORE_GENESIS, the genesis to check it against); otherwise
    plaintext, to loopback addresses only (what `node run` serves plaintext on)."""
    cas, genesis_path = os.environ.get("VOTESTORE_VALIDATOR_CAS"), os.environ.get("VOTESTORE_GENESIS")
    if not cas:
        ValidatorDialer.plaintext_to(nodes, "plaintext (VOTESTORE_VALIDATOR_CAS not set)")
        return NodeClient(nodes)
    if not genesis_path:
        raise ConfigError("VOTESTORE_VALIDATOR_CAS needs VOTESTORE_GENESIS, the genesis to check it against")
    genesis = load_genesis(Path(genesis_path))
    dialer = ValidatorDialer.with_tls(genesis, Path(cas))
    located = {node: dialer.locate(genesis, node) for node in nodes}
    return NodeClient([a for _, a in located.values()], connect=lambda a: _tls(dialer, located, a))


def _tls(dialer: ValidatorDialer, located: dict[str, tuple[int, str]], address: str) -> grpc.Channel:
    index = next(i for i, a in located.values() if a == address)
    return dialer.sync(index, address)


@contextmanager
def edge() -> Iterator[None]:
    """Errors raised on purpose (and file errors) become one `error: ...` line and exit 1."""
    try:
        yield
    except VotestoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))


class Outcome:
    """Where an action command's report goes: lines for a person as it goes, or (`--json`) one
    JSON object at the end — the facts and every transaction committed, with hash and height.
    Errors are not reports: they stay one `error:` line on stderr either way."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.transactions: list[dict[str, object]] = []

    def say(self, line: str) -> None:
        if not self.as_json:
            typer.echo(line)

    def done(self, **facts: object) -> None:
        if self.as_json:
            echo_json({**facts, "transactions": self.transactions})


def commit(
    client: NodeClient,
    raw: bytes,
    what: str,
    wait_s: float = COMMIT_TIMEOUT_S,
    due: bool = False,
    out: Outcome | None = None,
) -> ledger_pb2.TxProof:
    """Submit and wait; print the hash before waiting so a timed-out caller can look it up.
    `due`: the transaction's time has come by this clock; retry while the chain's trails it."""
    out = out or Outcome(as_json=False)
    digest = tx_hash(raw).hex()
    out.say(f"{what}: sending transaction {digest}")
    proof = client.commit_when_due(raw, wait_s) if due else client.commit(raw, wait_s)
    out.say(f"{what}: committed OK in block {proof.header.height}")
    out.transactions.append({"what": what, "hash": digest, "height": proof.header.height})
    return proof
