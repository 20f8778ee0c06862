"""Real processes: a validator that claims height 2^63 and serves no blocks cannot keep a
restarted validator from catching up (issue 19). On main before the catch-up rotation, the
laggard asked the liar at every tick and stayed at height 0.

It also caught a stall of the amnesia guard: the liar's height hides that it is at genesis, so
validators 1 and 2 could sign only after its first prevote; when that came after their own
timeoutPropose, they had prevoted in silence and no one ever held 2f+1 prevotes (about one run
in two stalled at height 0). `SignWithheld` fixed it (tests/consensus/test_sign_withheld.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cluster import LocalNet
from tests.node.builds import start_build

pytestmark = pytest.mark.cluster

LIAR = 0  # lowest index: the first a rotation meets
LAGGARD = 3
AHEAD = 5
CATCH_UP_S = 20.0


def test_a_peer_claiming_a_huge_height_and_serving_nothing_cannot_keep_a_laggard_behind(
    tmp_path: Path,
) -> None:
    with LocalNet.create(tmp_path / "net") as net:
        start_build(net, LIAR, "tests.node.liar_node")
        for i in (1, 2):
            net.start(i)
        net.wait_ready([LIAR, 1, 2])
        net.wait_height(AHEAD, [1])  # the liar votes: 0, 1 and 2 make a quorum
        net.start(LAGGARD)
        net.wait_ready([LAGGARD])
        status = net.status(1)
        assert status is not None
        net.wait_height(status.height, [LAGGARD], timeout_s=CATCH_UP_S)
        laggard = net.status(LAGGARD)
        assert laggard is not None and laggard.height >= status.height
    for i in (1, 2, LAGGARD):
        assert "Traceback" not in (net.workdir / f"node{i}.log").read_text(errors="replace")
