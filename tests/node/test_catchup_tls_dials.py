"""Real processes over TLS: a validator that stays behind dials each catch-up peer once, not once
a fetch (issue 19). Every link to and from validator 3 goes through a counting TCP proxy
(ops.chaos.proxy, the configs' `peers` overrides); the TLS runs end to end through it, so each
connection forwarded is a handshake. The links validators 1 and 2 dial to 3 are cut: 3 hears
only validator 0's votes (never a quorum) and its heights, and chases each height by fetching
from 0. On main before this change every fetch dialled a channel of its own: a peer fetched from
k times took 1 + k connections (3's peer link to it, then one per fetch). Counted from when 3
and its peers report all their links up (`LocalNet.wait_connected`): after that, its links dial
nothing more (a redial at most), and neither does catch-up, whose channel was made at its first
fetch."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from ops.chaos.proxy import ProxyFabric
from ops.cluster import LocalNet

pytestmark = pytest.mark.cluster

LAGGARD = 3
PEERS = (0, 1, 2)
SOURCE = 0  # the one peer whose heights 3 hears
MIN_FETCHES = 4
CATCH_UP_S = 40.0
POLL_S = 0.1
CAUGHT_UP = re.compile(r"event=caught_up peer=(\d+)")


def _fetches(net: LocalNet) -> Counter[int]:
    """The laggard's fetches that fed blocks, by peer (its `event=caught_up` log lines)."""
    log = (net.workdir / f"node{LAGGARD}.log").read_text(errors="replace")
    return Counter(int(peer) for peer in CAUGHT_UP.findall(log))


def _through(net: LocalNet, fabric: ProxyFabric, i: int, to: list[int]) -> None:
    """Node i dials the nodes `to` through the fabric's links."""
    peers = fabric.peers(i)
    config = net.config_path(i)
    config.write_text(config.read_text() + "[peers]\n" + "".join(f'{j} = "{peers[j]}"\n' for j in to))


def test_a_laggard_dials_each_catch_up_peer_once_over_tls(tmp_path: Path) -> None:
    with LocalNet.create(tmp_path / "net", tls=True) as net:
        fabric = ProxyFabric.create([int(a.rsplit(":", 1)[1]) for a in net.peer_addresses])
        try:
            _through(net, fabric, LAGGARD, list(PEERS))
            for peer in PEERS:
                _through(net, fabric, peer, [LAGGARD])
            for peer in PEERS:
                net.start(peer)
            net.wait_ready(list(PEERS))
            net.start(LAGGARD)
            net.wait_ready([LAGGARD])
            net.wait_height(2, [LAGGARD])
            net.wait_connected([LAGGARD, *PEERS])
            before = _fetches(net)
            links = {p: fabric.connections(LAGGARD, p) for p in PEERS}
            for peer in PEERS:
                if peer != SOURCE:
                    fabric.cut_one_way(peer, LAGGARD)
            deadline = time.monotonic() + CATCH_UP_S
            while _fetches(net)[SOURCE] - before[SOURCE] < MIN_FETCHES:
                assert time.monotonic() < deadline, f"{_fetches(net)} fetches:\n{net.log_tail(LAGGARD)}"
                time.sleep(POLL_S)
            fetches = _fetches(net) - before
            dials = {p: fabric.connections(LAGGARD, p) - links[p] for p in PEERS}
        finally:
            fabric.close()
    print(
        f"settled: {dict(before)} fetches, TLS connections {links}; "
        f"then {dict(fetches)} fetches, {dials} connections more"
    )
    assert set(fetches) <= set(PEERS)
    assert dials[SOURCE] <= 1, (dials, fetches)  # not one a fetch (a link redial at most)
    for i in range(4):
        assert "Traceback" not in (net.workdir / f"node{i}.log").read_text(errors="replace")
