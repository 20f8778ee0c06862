"""The election steps on a live cluster, each a small function named for what one party does:
the administrator creates, rolls, opens and closes; the trustees deal (key generation) and each
publishes a decryption share (tally); an observer verifies. The chaos harness, the benchmarks and
the cluster tests run an election through these, in one process holding every party's keys; the
demo runs each party's step as a `votestore` command of its own instead (ops/demo/parties.py),
and uses `verify` here as its observer.

Every step commits through a NodeClient and waits for the commit (bounded by the client's timeout);
a refusal raises `ElectionStepError` (or the client's `TxRefused`) naming the step, never a
traceback to the user.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nacl.signing

from ops.cluster.trustees import Trustee, deal_tx, decryption_share_tx
from proto.votestore.v1 import election_pb2
from tools.verify.once import verify_once
from tools.verify.report import EXIT_CLEAN, exit_code, render_text
from tools.verify.sources import NodeSource, node_name
from votestore import txbuild
from votestore.client.node import NodeClient
from votestore.encoding import tx_hash
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.keygen_schedule import wait_before_open_s


class ElectionStepError(VotestoreError):
    """A step of the election could not be done; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verifier's answer, reduced to what a run shows (its full text is kept too)."""

    passed: bool
    exit_code: int
    agreed_height: int
    text: str


def _phase(state: election_pb2.ElectionState) -> str:
    return election_pb2.Phase.Name(state.phase)


def commit_in_order(node: NodeClient, txs: Sequence[bytes]) -> None:
    """Each committed before the next is sent: roll batches must arrive in order."""
    for raw in txs:
        node.commit(raw)


def commit_together(node: NodeClient, txs: Sequence[bytes]) -> None:
    """All submitted, then all waited for: independent transactions share blocks."""
    for raw in txs:
        answer = node.submit(raw)
        if answer.code != election_pb2.OK:
            name = election_pb2.ResultCode.Name(answer.code)
            raise ElectionStepError(f"transaction refused at intake: {name}: {answer.detail}")
    for raw in txs:
        result = node.wait_committed(tx_hash(raw)).result
        if result.code != election_pb2.OK:
            name = election_pb2.ResultCode.Name(result.code)
            raise ElectionStepError(f"transaction rejected in its block: {name}: {result.detail}")


# ---------------------------------------------------------------------- the administrator


def create(
    node: NodeClient, chain_id: str, admin: nacl.signing.SigningKey, definition: election_pb2.ElectionCreate
) -> None:
    node.commit(txbuild.election_create(chain_id, admin, definition))


def open_election(
    node: NodeClient, chain_id: str, admin: nacl.signing.SigningKey, definition: election_pb2.ElectionCreate
) -> election_pb2.ElectionState:
    """Open once the complaint window after the deals has passed; the open state, with its key."""
    election_id = definition.election_id
    time.sleep(wait_before_open_s(definition))
    node.commit_when_due(txbuild.open_election(chain_id, admin, election_id))
    state = node.election(election_id)
    if state.phase != election_pb2.OPEN or not state.election_key:
        raise ElectionStepError(f"election {election_id} did not open (phase {_phase(state)})")
    return state


def close(node: NodeClient, chain_id: str, admin: nacl.signing.SigningKey, election_id: str) -> None:
    node.commit(txbuild.close_election(chain_id, admin, election_id))


# ---------------------------------------------------------------------- the credential authority


def roll(
    node: NodeClient,
    chain_id: str,
    authority: nacl.signing.SigningKey,
    election_id: str,
    rows: Sequence[tuple[bytes, str]],
    batch: int,
) -> None:
    """Import the roll, signed by the election's credential authority (never the administrator):
    (credential public key, group) rows in numbered batches of `batch`."""
    commit_in_order(node, txbuild.roll_batches(chain_id, authority, election_id, rows, batch))


# ---------------------------------------------------------------------- the trustees


def keygen(
    node: NodeClient, chain_id: str, trustees: Sequence[Trustee], definition: election_pb2.ElectionCreate
) -> None:
    """Every trustee publishes its deal; the deals are independent, so they share blocks."""
    commit_together(node, [deal_tx(chain_id, t, definition) for t in trustees])


def tally(
    node: NodeClient,
    chain_id: str,
    trustees: Sequence[Trustee],
    election_id: str,
    before_each: Callable[[Trustee], None] = lambda _: None,
) -> tuple[election_pb2.ElectionState, int]:
    """Each trustee reads the ledger's deals and the closed aggregate and publishes its decryption
    share; the counted state and the height of the last share's block."""
    height = 0
    for trustee in trustees:
        before_each(trustee)
        state = node.election(election_id)
        tx = decryption_share_tx(chain_id, trustee, state, node.key_material(election_id))
        height = node.commit(tx).header.height
    state = node.election(election_id)
    if state.phase != election_pb2.COUNTED:
        raise ElectionStepError(f"not counted after the shares (phase {_phase(state)})")
    return state, height


# ---------------------------------------------------------------------- both, and the observer


def set_up(
    node: NodeClient,
    chain_id: str,
    admin: nacl.signing.SigningKey,
    authority: nacl.signing.SigningKey,
    trustees: Sequence[Trustee],
    definition: election_pb2.ElectionCreate,
    rows: Sequence[tuple[bytes, str]],
    batch: int,
) -> election_pb2.ElectionState:
    """Create (administrator), roll (credential authority), key generation (trustees), open
    (administrator): everything before the first ballot."""
    create(node, chain_id, admin, definition)
    roll(node, chain_id, authority, definition.election_id, rows, batch)
    keygen(node, chain_id, trustees, definition)
    return open_election(node, chain_id, admin, definition)


def verify(genesis: Genesis, addresses: Sequence[str]) -> Verdict:
    """The verifier once over every node, as an observer runs it (plaintext loopback nodes)."""
    sources = [NodeSource(a, node_name(genesis, a)) for a in addresses]
    try:
        report = verify_once(genesis, sources)
    finally:
        for source in sources:
            source.close()
    code = exit_code(report)
    return Verdict(code == EXIT_CLEAN, code, report.agreed_height, render_text(report))
