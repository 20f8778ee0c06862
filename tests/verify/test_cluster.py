"""The verifier against four real node processes: a whole election verifies on every node; a
stopped node is reported down (exit 3), not as fraud; ledgers exported from the real nodes verify
offline, and a byte flipped in one exported ballot is named with its node and height."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
import nacl.signing
import pytest

from ops.cluster import LocalNet
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from tests.cluster import submit, wait_committed
from tools.verify.export import export_ledger
from tools.verify.findings import Check
from tools.verify.ledger_file import LedgerReader, write_ledger
from tools.verify.nodes import Report
from tools.verify.once import verify_once
from tools.verify.report import EXIT_CLEAN, EXIT_INCOMPLETE, exit_code
from tools.verify.sources import FileSource, NodeSource, Source, node_name
from votestore import txbuild
from votestore.crypto import dkg
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import tx_hash
from votestore.keygen_schedule import wait_before_open_s

pytestmark = pytest.mark.cluster

ELECTION = "cluster-e1"
CHOICES = [[0], [1], [0], [2]]


def _commit(net: LocalNet, txs: Sequence[bytes]) -> list[ledger_pb2.TxProof]:
    for k, raw in enumerate(txs):
        answer = submit(net.addresses[k % 4], raw)
        assert answer.code == election_pb2.OK, answer.detail
    return [wait_committed(net.addresses[0], tx_hash(raw)) for raw in txs]


def _state(net: LocalNet) -> election_pb2.ElectionState:
    with grpc.insecure_channel(net.addresses[0]) as channel:
        record: election_pb2.ElectionState = node_pb2_grpc.NodeStub(channel).GetElection(
            node_pb2.GetElectionRequest(election_id=ELECTION), timeout=10
        )
        return record


def _run_election(net: LocalNet) -> None:
    chain = net.genesis.chain_id
    trustees = [dkg.new_trustee(f"trustee-{i}", i) for i in (1, 2, 3)]
    now = int(time.time() * 1000)
    definition = election_pb2.ElectionCreate(
        election_id=ELECTION,
        title="cluster",
        contests=[txbuild.contest("c1", ["a", "b", "c"], 1, 1)],
        window_start_ms=now - 1000,
        window_end_ms=now + 3600 * 1000,
        trustees=[t[1] for t in trustees],
        threshold=2,
        deal_deadline_ms=now + 600_000,
        complaint_window_ms=1_000,
    )
    roles = ElectionRoles.fresh()
    roles.name_in(definition)
    credentials = [bytes([v + 1]) * 32 for v in range(len(CHOICES))]
    rows = [(bytes(derive_credential_key(c, ELECTION).verify_key), "") for c in credentials]
    _commit(net, [txbuild.election_create(chain, net.admin_key, definition)])
    _commit(net, [txbuild.roll_append(chain, roles.authority, ELECTION, 0, rows)])
    keys = [nacl.signing.SigningKey(s.sign_seed) for s, _ in trustees]
    deals = [txbuild.deal(chain, keys[i], definition, i + 1) for i in range(3)]
    _commit(net, deals)
    time.sleep(wait_before_open_s(definition))
    _commit(net, [txbuild.open_election(chain, net.admin_key, ELECTION)])
    key = _state(net).election_key
    ballots = [
        txbuild.ballot(chain, ELECTION, definition, key, c, [s], roles.attester(chain, ELECTION))
        for c, s in zip(credentials, CHOICES, strict=True)
    ]
    assert all(p.result.code == election_pb2.OK for p in _commit(net, ballots))
    _commit(net, [txbuild.close_election(chain, net.admin_key, ELECTION)])
    record = _state(net)
    bodies = [election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(d).body).dkg_deal for d in deals]
    shares = []
    for t in (1, 2):
        opened = [
            dkg.open_share(ELECTION, definition.trustees, d, t, trustees[t - 1][0].enc_secret) for d in bodies
        ]
        shares.append(
            txbuild.decryption_share(
                chain,
                keys[t - 1],
                ELECTION,
                t,
                dkg.secret_share(opened),
                record.tally_height,
                record.aggregate,
            )
        )
    _commit(net, shares)
    assert _state(net).phase == election_pb2.COUNTED


def _verify(net: LocalNet, sources: Sequence[Source]) -> Report:
    try:
        return verify_once(net.genesis, sources)
    finally:
        for source in sources:
            source.close()


def _nodes(net: LocalNet) -> list[Source]:
    return [NodeSource(a, node_name(net.genesis, a)) for a in net.addresses]


def test_real_cluster_election_verifies_then_a_stopped_node_is_down(
    cluster: LocalNet, tmp_path: Path
) -> None:
    _run_election(cluster)
    report = _verify(cluster, _nodes(cluster))
    assert report.clean, [f.line() for f in report.findings]
    assert exit_code(report) == EXIT_CLEAN
    assert report.passed["ballot"] == len(CHOICES) and report.passed["result"] == 1
    assert all(row.status == "ok" for row in report.nodes), report.nodes

    paths = []
    for i, address in enumerate(cluster.addresses):
        paths.append(tmp_path / f"site-{i}.ledger")
        assert export_ledger(cluster.genesis, address, paths[-1]) > 0
    offline = _verify(cluster, [FileSource(p) for p in paths])
    assert offline.clean, [f.line() for f in offline.findings]

    ballot_height = _flip_a_ballot_byte(paths[2], tmp_path / "tampered.ledger")
    tampered = _verify(cluster, [FileSource(p) for p in [*paths[:2], tmp_path / "tampered.ledger", paths[3]]])
    agreement = [f for f in tampered.findings if f.check == Check.AGREEMENT]
    assert [(f.height, f.nodes) for f in agreement] == [(ballot_height, ("site-2",))]
    assert "(ballot)" in agreement[0].record

    cluster.stop(3)
    report = _verify(cluster, _nodes(cluster))
    assert report.clean, [f.line() for f in report.findings]
    assert exit_code(report) == EXIT_INCOMPLETE
    assert [row.status for row in report.nodes][3] == "down"


def _flip_a_ballot_byte(source: Path, target: Path) -> int:
    reader = LedgerReader(source)
    blocks = list(reader.blocks())
    reader.close()
    for committed in blocks:
        for at, raw in enumerate(committed.block.txs):
            if election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body).HasField("ballot"):
                flipped = bytearray(raw)
                flipped[-1] ^= 0x01
                committed.block.txs[at] = bytes(flipped)
                header = dataclasses.replace(reader.header, node="site-2")
                with target.open("wb") as out:
                    write_ledger(out, header, reader.elections, blocks)
                return committed.block.header.height
    raise AssertionError("no ballot in the exported ledger")
