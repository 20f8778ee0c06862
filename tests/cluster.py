"""Helpers for tests that run a real local cluster (separate node processes on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import grpc
import nacl.signing

from election.app_hash import genesis_app_hash
from node.ledger.store import Store
from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from tests.ledger.harness import AUTHORITY, PROVIDER
from votestore import txbuild
from votestore.crypto import dkg

RPC_TIMEOUT_S = 10.0


@contextlib.contextmanager
def running_cluster(workdir: Path) -> Iterator[LocalNet]:
    """A running 4-node cluster of real processes, all stopped on leaving; then no node log may
    hold a traceback."""
    net = LocalNet.create(workdir)
    try:
        net.start_all()
        net.wait_ready()
        yield net
    finally:
        net.close()
    for log in sorted(net.workdir.glob("node*.log")):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} holds a traceback"


def submit(address: str, raw: bytes) -> node_pb2.SubmitTxResponse:
    with grpc.insecure_channel(address) as channel:
        response: node_pb2.SubmitTxResponse = node_pb2_grpc.NodeStub(channel).SubmitTx(
            node_pb2.SubmitTxRequest(tx=raw), timeout=RPC_TIMEOUT_S
        )
        return response


def get_tx(address: str, tx_hash: bytes) -> ledger_pb2.TxProof:
    with grpc.insecure_channel(address) as channel:
        proof: ledger_pb2.TxProof = node_pb2_grpc.NodeStub(channel).GetTx(
            node_pb2.GetTxRequest(tx_hash=tx_hash), timeout=RPC_TIMEOUT_S
        )
        return proof


def _wait_tx(
    address: str,
    tx_hash: bytes,
    want: str,
    done: Callable[[ledger_pb2.TxProof], bool],
    timeout_s: float,
    allowed_errors: tuple[grpc.StatusCode, ...] | None = None,
) -> ledger_pb2.TxProof:
    """Poll GetTx until `done(proof)` (bounded wait); the failure names the last answer. With
    `allowed_errors`, any other error status fails at once."""
    deadline = time.monotonic() + timeout_s
    last = "never answered"
    while time.monotonic() < deadline:
        try:
            proof = get_tx(address, tx_hash)
            if done(proof):
                return proof
            last = "committed" if proof.HasField("header") else "pending"
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            assert allowed_errors is None or code in allowed_errors, exc
            last = f"{code.name}"
        time.sleep(0.05)
    raise AssertionError(f"tx {tx_hash.hex()[:16]} not {want} on {address} within {timeout_s} s ({last})")


def wait_committed(address: str, tx_hash: bytes, timeout_s: float = 60.0) -> ledger_pb2.TxProof:
    """Poll until the node serves a committed proof for the transaction (bounded wait)."""
    return _wait_tx(address, tx_hash, "committed", lambda proof: proof.HasField("header"), timeout_s)


def wait_pending(address: str, tx_hash: bytes, timeout_s: float = 30.0) -> ledger_pb2.TxProof:
    """Poll until the node holds the transaction in its mempool, not yet committed (bounded wait)."""
    return _wait_tx(
        address,
        tx_hash,
        "pending",
        lambda proof: not proof.HasField("header"),
        timeout_s,
        allowed_errors=(grpc.StatusCode.NOT_FOUND,),
    )


def election_definition(
    election_id: str, trustees: int = 3, threshold: int = 2
) -> election_pb2.ElectionCreate:
    now = int(time.time() * 1000)
    members = [dkg.new_trustee(f"trustee-{i}")[1] for i in range(trustees)]
    return election_pb2.ElectionCreate(
        election_id=election_id,
        title="test",
        contests=[txbuild.contest("c1", ["a", "b", "c", "d"], 1, 1)],
        window_start_ms=now,
        window_end_ms=now + 24 * 3600 * 1000,
        trustees=members,
        threshold=threshold,
        deal_deadline_ms=now + 600_000,
        complaint_window_ms=1_000,
        credential_authority=bytes(AUTHORITY.verify_key),
        identity_provider=bytes(PROVIDER.verify_key),
    )


def roll_load(chain_id: str, election_id: str, batches: int, per_batch: int = 10) -> list[bytes]:
    """Signed RollAppend transactions (by the credential authority `election_definition` names):
    cheap, real, and each one distinct."""
    rows = [(nacl.signing.SigningKey.generate().verify_key.encode(), "") for _ in range(batches * per_batch)]
    return txbuild.roll_batches(chain_id, AUTHORITY, election_id, rows, per_batch)


def read_chains(net: LocalNet, nodes: Sequence[int]) -> dict[int, list[bytes]]:
    """Each stopped node's committed blocks, read straight from its LevelDB files."""
    chains: dict[int, list[bytes]] = {}
    for i in nodes:
        store = Store(net.data_dir(i), net.genesis, genesis_app_hash(net.genesis.chain_id))
        try:
            list(store.check_chain())
            chains[i] = [
                store.block(h).SerializeToString(deterministic=True) for h in range(1, store.height + 1)
            ]
        finally:
            store.close()
    return chains


def assert_no_double_sign(net: LocalNet, nodes: Sequence[int]) -> None:
    """No validator's precommits, across every stored certificate, name two blocks for one round,
    and no store holds equivocation evidence."""
    seen: dict[tuple[int, int, int], bytes] = {}
    for i in nodes:
        store = Store(net.data_dir(i), net.genesis, genesis_app_hash(net.genesis.chain_id))
        try:
            assert store.pending_evidence() == [], f"node {i} holds equivocation evidence"
            for h in range(1, store.height + 1):
                cert = store.certificate(h)
                assert not store.block(h).evidence, f"block {h} carries evidence"
                for sig in cert.signatures:
                    key = (sig.validator, cert.height, cert.round)
                    assert seen.setdefault(key, cert.block_id) == cert.block_id, f"double sign {key}"
        finally:
            store.close()
