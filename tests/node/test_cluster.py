"""Four real node processes on 127.0.0.1: commits under load, crashes, restarts, catch-up."""

from __future__ import annotations

import random
from pathlib import Path

import plyvel
import pytest

from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2
from tests.cluster import (
    assert_no_double_sign,
    election_definition,
    read_chains,
    submit,
    wait_committed,
    wait_pending,
)
from votestore import txbuild
from votestore import version as build
from votestore.encoding import tx_hash

pytestmark = pytest.mark.cluster


def _elections(net: LocalNet, count: int, prefix: str) -> list[bytes]:
    """Independent ElectionCreate transactions: each commits OK whatever the order."""
    return [
        txbuild.election_create(net.genesis.chain_id, net.admin_key, election_definition(f"{prefix}-{k}"))
        for k in range(count)
    ]


def _submit_all(net: LocalNet, txs: list[bytes], nodes: list[int]) -> list[bytes]:
    hashes = []
    for k, raw in enumerate(txs):
        answer = submit(net.addresses[nodes[k % len(nodes)]], raw)
        assert answer.code == election_pb2.OK, answer.detail
        hashes.append(tx_hash(raw))
    return hashes


def _assert_same_chains(net: LocalNet, nodes: list[int]) -> None:
    chains = read_chains(net, nodes)
    shortest = min(len(c) for c in chains.values())
    assert shortest > 0
    reference = chains[nodes[0]][:shortest]
    for i in nodes:
        assert chains[i][:shortest] == reference, f"node {i} differs from node {nodes[0]}"


def test_four_nodes_commit_under_load_with_identical_stores(cluster: LocalNet) -> None:
    hashes = _submit_all(cluster, _elections(cluster, 120, "load"), [0, 1, 2, 3])
    for h in hashes:
        proof = wait_committed(cluster.addresses[0], h)
        assert proof.result.code == election_pb2.OK, proof.result.detail
    statuses = [cluster.status(i) for i in range(4)]
    height = max(s.height for s in statuses if s is not None)
    for i, status in enumerate(statuses):
        assert status is not None, f"node {i} did not answer GetStatus"
        running = (status.version, status.commit, status.protocol_version)
        assert running == (build.version(), build.commit(), build.PROTOCOL_VERSION), f"node {i}: {running}"
        first_line = (cluster.workdir / f"node{i}.log").read_text().splitlines()[0]
        assert f"event=start component=node {build.log_fields()}" in first_line, first_line
    cluster.wait_height(height)
    cluster.close()
    _assert_same_chains(cluster, [0, 1, 2, 3])
    assert_no_double_sign(cluster, [0, 1, 2, 3])


def test_killed_node_restarts_catches_up_and_agrees(cluster: LocalNet) -> None:
    first = _submit_all(cluster, _elections(cluster, 30, "before"), [0, 1, 2, 3])
    wait_committed(cluster.addresses[3], first[-1])
    cluster.wait_signing()  # a watching late starter and the killed 3 would stall the chain
    cluster.kill(3)
    later = _submit_all(cluster, _elections(cluster, 60, "while-down"), [0, 1, 2])
    for h in later:
        wait_committed(cluster.addresses[0], h)
    target = cluster.status(0)
    assert target is not None
    cluster.start(3)
    cluster.wait_height(target.height, [3])
    for h in later:
        assert wait_committed(cluster.addresses[3], h).result.code == election_pb2.OK
    cluster.close()
    _assert_same_chains(cluster, [0, 1, 2, 3])
    assert_no_double_sign(cluster, [0, 1, 2, 3])


def test_all_nodes_killed_at_random_moments_lose_nothing(cluster: LocalNet) -> None:
    rng = random.Random(20261122)
    txs = _elections(cluster, 80, "crash")
    kill_points = sorted(rng.sample(range(10, 70), 4))
    order = rng.sample(range(4), 4)
    committed: list[bytes] = []
    alive = [0, 1, 2, 3]
    for k, raw in enumerate(txs):
        if kill_points and k == kill_points[0]:
            kill_points.pop(0)
            victim = order.pop(0)
            cluster.wait_signing(alive)  # the survivors must all sign
            cluster.kill(victim)
            alive.remove(victim)
        if len(alive) >= 3:
            target = alive[k % len(alive)]
            if submit(cluster.addresses[target], raw).code == election_pb2.OK and k % 10 == 0:
                committed.append(wait_committed(cluster.addresses[target], tx_hash(raw)).tx_hash)
    assert committed, "nothing committed before the crashes"
    assert alive == []
    cluster.start_all()
    cluster.wait_ready()
    for i in range(4):
        for h in committed:
            assert wait_committed(cluster.addresses[i], h).result.code == election_pb2.OK
    after = txbuild.election_create(
        cluster.genesis.chain_id, cluster.admin_key, election_definition("after-crash")
    )
    assert submit(cluster.addresses[0], after).code == election_pb2.OK
    wait_committed(cluster.addresses[2], tx_hash(after))
    cluster.close()
    _assert_same_chains(cluster, [0, 1, 2, 3])
    assert_no_double_sign(cluster, [0, 1, 2, 3])


def test_a_transaction_sent_to_one_validator_reaches_the_others(cluster: LocalNet) -> None:
    """With two of four validators down nothing commits, so validator 1 can hold what a client
    gave validator 0 only because 0 announced it and 1 pulled it; once the others are back it
    commits everywhere."""
    cluster.stop(2)
    cluster.stop(3)
    before = cluster.status(1)
    assert before is not None
    raw = _elections(cluster, 1, "one-validator")[0]
    assert submit(cluster.addresses[0], raw).code == election_pb2.OK
    wait_pending(cluster.addresses[1], tx_hash(raw))
    after = cluster.status(1)
    assert after is not None and after.height == before.height
    cluster.start(2)
    cluster.start(3)
    for i in range(4):
        assert wait_committed(cluster.addresses[i], tx_hash(raw)).result.code == election_pb2.OK


def test_tampered_block_record_is_refused_naming_the_height(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        net.start_all()
        net.wait_ready()
        _submit_all(net, _elections(net, 5, "t"), [0])
        net.wait_height(4)
        net.close()
        db = plyvel.DB(str(net.data_dir(1)))
        key = b"b/" + (2).to_bytes(8, "big")
        value = bytearray(db.get(key))
        value[len(value) // 2] ^= 0x01
        db.put(key, bytes(value), sync=True)
        db.close()
        log_path = net.workdir / "node1.log"
        before = log_path.stat().st_size
        net.start(1)
        code = net.processes[1].wait(60)
        log = log_path.read_bytes()[before:].decode()
        assert code != 0
        assert "error: store corrupted at height 2" in log, log
        assert "Traceback" not in log
