"""Real processes: one validator of four runs a hostile build (tests/node/hostile_node.py: relays
junk payloads under honest proposers' signatures, claims height 2^63 and serves nothing, floods
next-height votes beyond the core's buffer). The other three keep committing transactions, count
what it sent as invalid, and none of them logs a traceback (issue 19)."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Final

import pytest

from ops.cluster import LocalNet
from proto.votestore.v1 import election_pb2
from tests.cluster import election_definition, submit, wait_committed
from tests.node.builds import start_build
from tests.node.hostile_node import FLOOD_VOTES
from votestore import txbuild
from votestore.encoding import tx_hash

pytestmark = pytest.mark.cluster

HOSTILE: Final = 0
HONEST: Final = (1, 2, 3)
TXS: Final = 12
COMMIT_TIMEOUT_S: Final = 90.0


def _invalid(port: int) -> dict[str, float]:
    """The honest node's invalid-message counters, by reason."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("votestore_node_invalid_messages_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            counts[reason] = counts.get(reason, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts


ATTACK_SEEN_S: Final = 60.0


def _height(net: LocalNet, i: int) -> int:
    status = net.status(i)
    assert status is not None, f"node {i} does not answer"
    return status.height


def _wait_attacked(net: LocalNet) -> list[dict[str, float]]:
    """Wait (bounded) until every honest node has counted all three attacks: the lie (the liar
    asked for blocks, served nothing, set aside), the flood (its signed votes dropped) and the
    relay (junk payloads under honest proposers' signatures, refused before they take a slot)."""
    deadline = time.monotonic() + ATTACK_SEEN_S
    while True:
        counts = [_invalid(net.metrics_ports[i]) for i in HONEST]
        missing = [
            (i, attack)
            for i, count in zip(HONEST, counts, strict=True)
            for attack, (reasons, least) in ATTACKS.items()
            if sum(count.get(reason, 0) for reason in reasons) < least
        ]
        if not missing:
            return counts
        assert time.monotonic() < deadline, f"attacks not seen in {ATTACK_SEEN_S} s: {missing}; {counts}"
        time.sleep(0.5)


ATTACKS: Final = {
    "lie": (("catchup_peer_set_aside",), 1),
    # One flood's worth: far more than late honest messages make in a minute. Whether the votes
    # meet a full buffer, too many of a round, or a height already passed depends on the
    # flooder's link speed; each is a drop (or, kept a while, evicted for a lower round).
    "flood": (("buffer_full", "buffer_evicted", "vote_flood", "future_height", "old_height"), FLOOD_VOTES),
    "relay": (("bad_payload",), 1),
}


def test_three_validators_keep_committing_beside_a_hostile_build(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", metrics=True) as net:
        start_build(net, HOSTILE, "tests.node.hostile_node")
        for i in HONEST:
            net.start(i)
        net.wait_ready([HOSTILE, *HONEST])
        counts = _wait_attacked(net)
        before = [_height(net, i) for i in HONEST]
        raws = [
            txbuild.election_create(net.genesis.chain_id, net.admin_key, election_definition(f"hostile-{k}"))
            for k in range(TXS)
        ]
        started = time.monotonic()
        for k, raw in enumerate(raws):
            assert submit(net.addresses[HONEST[k % 3]], raw).code == election_pb2.OK, k
        for k, raw in enumerate(raws):
            proof = wait_committed(net.addresses[HONEST[k % 3]], tx_hash(raw), timeout_s=COMMIT_TIMEOUT_S)
            assert proof.result.code == election_pb2.OK, (k, proof.result)
        elapsed = time.monotonic() - started
        after = [_height(net, i) for i in HONEST]
        assert net.processes[HOSTILE].poll() is None, "the hostile build died: the attack did not run"
        assert all(net.processes[i].poll() is None for i in HONEST), "an honest node died"
        print(
            f"under attack: {TXS} transactions committed in {elapsed:.1f} s, heights {before} -> {after}; "
            f"invalid by reason when the attack was seen: {counts}"
        )
    for i in HONEST:
        log_text = (net.workdir / f"node{i}.log").read_text(errors="replace")
        assert "Traceback" not in log_text, i
