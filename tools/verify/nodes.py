"""The verifier's view of each node it follows, and the report: per node its status (ok, lagging,
down, wrong chain, faulty) and how far it is verified; per check the passes and failures, and the
findings. A node that is down or behind is reported by its status, never as a discrepancy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from proto.votestore.v1 import ledger_pb2
from tools.verify.findings import Finding, Tally
from tools.verify.snapshot import NodeInfo, Published, Reach
from votestore.genesis import Genesis


@dataclass(frozen=True, slots=True)
class NodeRow:
    name: str
    address: str
    status: str
    """ok | lagging | down | wrong_chain | faulty"""
    height: int
    verified_height: int
    lag: int
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    chain_id: str
    agreed_height: int
    nodes: tuple[NodeRow, ...]
    passed: dict[str, int]
    failed: dict[str, int]
    findings: tuple[Finding, ...]
    findings_dropped: int

    @property
    def clean(self) -> bool:
        return not self.failed

    @property
    def all_up(self) -> bool:
        return all(row.status in ("ok", "lagging") for row in self.nodes)


class NodeState:
    """The verifier's bookkeeping for one node (mutable; owned by the Verifier): blocks served and
    not yet compared, the next height it owes, how far it is verified, its published state."""

    __slots__ = ("buffer", "delivered_through", "info", "next_expected", "published", "verified_height")

    def __init__(self, info: NodeInfo) -> None:
        self.info = info
        self.buffer: dict[int, ledger_pb2.CommittedBlock] = {}
        self.delivered_through = 0
        self.next_expected = 1
        self.verified_height = 0
        self.published: Published | None = info.published

    @property
    def up(self) -> bool:
        return self.info.reach == Reach.UP


def node_report(
    genesis: Genesis, agreed_height: int, nodes: Iterable[NodeState], tally: Tally, lag_tolerance: int
) -> Report:
    """Each node's status against the highest height any reachable node reports."""
    nodes = list(nodes)
    top = max((n.info.height for n in nodes if n.up), default=0)
    blamed = {name for f in tally.findings for name in f.nodes}
    rows = []
    for node in nodes:
        info = node.info
        lag = max(0, top - info.height) if node.up else 0
        if not node.up:
            status = info.reach.value
        elif info.name in blamed:
            status = "faulty"
        elif lag > lag_tolerance:
            status = "lagging"
        else:
            status = "ok"
        rows.append(
            NodeRow(info.name, info.address, status, info.height, node.verified_height, lag, info.detail)
        )
    return Report(
        chain_id=genesis.chain_id,
        agreed_height=agreed_height,
        nodes=tuple(rows),
        passed={c.value: n for c, n in sorted(tally.passed.items())},
        failed={c.value: n for c, n in sorted(tally.failed.items())},
        findings=tuple(tally.findings),
        findings_dropped=tally.dropped,
    )
