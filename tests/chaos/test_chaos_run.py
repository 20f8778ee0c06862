"""The chaos run in the test command: about a minute of seeded faults on 4 validators and a
gateway under ballot load, then every post-run check (see docs/chaos.md). Every kind of fault
is drawn, the silent 2|2 split included (it once stalled commits after healing, until peer links
got a keepalive that notices a dead link and a stuck node asks its peers to resend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.chaos.run import ChaosConfig, run_chaos
from ops.chaos.schedule import TEST_TIMING, Kind

pytestmark = pytest.mark.cluster

SEED = 20261122
DURATION_S = 60.0
VOTERS = 600
KINDS = frozenset(Kind)


def test_faults_lose_nothing_and_ledgers_agree(tmp_path: Path) -> None:
    config = ChaosConfig(
        seed=SEED,
        duration_s=DURATION_S,
        workdir=tmp_path / "net",
        timing=TEST_TIMING,
        voters=VOTERS,
        kinds=KINDS,
    )
    report = run_chaos(config)
    text = "\n".join(report.lines())
    print(text)
    assert report.ok, text
    assert {r.fault.kind for r in report.faults} == KINDS, text
    assert report.receipts > 0 and report.lost == 0, text
    assert report.verifier_exit == 0 and report.counted == report.expected, text
    assert sum(report.counted) == report.committed_ok >= report.receipts, text
