"""The verifier's core: blocks from every node in, findings out.

Per height it picks the agreed block — the version that is whole, links to the agreed parent and
carries a valid certificate, held by the most nodes — replays it, then holds every node's version,
certificate and stored results against it. Both `votestore verify` (once) and `votestore verifier
run` (continuously) drive this one object: they differ only in how often they fetch.

A node that is down or behind is reported by its status, never as a discrepancy; a discrepancy
always names the nodes, the height and the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from proto.votestore.v1 import election_pb2, ledger_pb2
from tools.verify import compare
from tools.verify.agreed import accountability, choose
from tools.verify.audit import ElectionAudit
from tools.verify.chain import (
    certificate_problem,
    content_digest,
    first_differing_tx,
    header_problem,
)
from tools.verify.compare import short, tx_record
from tools.verify.evidence import EvidenceAudit
from tools.verify.findings import Check, Finding, Tally
from tools.verify.nodes import NodeState, Report, node_report
from tools.verify.replay import Replayed, Replayer
from tools.verify.snapshot import NodeInfo, Published
from votestore.blocks import GENESIS_RESULTS_ROOT, results_root
from votestore.encoding import block_id
from votestore.genesis import Genesis

LAG_TOLERANCE_BLOCKS: Final = 2
"""A node this many blocks behind the highest is still in step (commits reach nodes at different
moments); further behind it is reported as lagging."""
RECENT_BLOCKS: Final = 256
"""Agreed blocks and their replayed results kept to name the differing record of a late node."""


class Verifier:
    def __init__(
        self, genesis: Genesis, *, workers: int = 1, lag_tolerance: int = LAG_TOLERANCE_BLOCKS
    ) -> None:
        self.genesis = genesis
        self.tally = Tally()
        self._lag_tolerance = lag_tolerance
        self._nodes: dict[str, NodeState] = {}
        self._ids: list[bytes] = []
        self._digests: list[bytes] = []
        self._results_roots: list[bytes] = []
        self._last_time = 0
        self._recent: dict[int, tuple[ledger_pb2.CommittedBlock, tuple[election_pb2.TxResult, ...]]] = {}
        self._replayer = Replayer(genesis, workers)
        self._audit = ElectionAudit(self.tally)
        self._evidence = EvidenceAudit(genesis, self.tally)
        self._stuck_reported = 0
        self._batch: dict[tuple[Check, int, str, str], list[str]] = {}

    @property
    def height(self) -> int:
        """The agreed, replayed height."""
        return len(self._ids)

    def close(self) -> None:
        self._replayer.close()

    # ------------------------------------------------------------------ input

    def set_node(self, info: NodeInfo) -> None:
        """Add a node or refresh what is known of it (reachability, height, published state)."""
        node = self._nodes.get(info.name)
        if node is None:
            self._nodes[info.name] = NodeState(info)
            return
        node.info = info
        if info.published is not None:
            node.published = info.published

    def add_blocks(self, name: str, blocks: Iterable[ledger_pb2.CommittedBlock], through: int) -> None:
        """Blocks a node served for heights up to `through`; a height it skipped is missing."""
        node = self._nodes[name]
        for committed in blocks:
            height = committed.block.header.height
            if height in node.buffer or height < node.next_expected:
                self._note(Check.HEADER, height, name, "block", "height served twice")
                continue
            node.buffer[height] = committed
        node.delivered_through = max(node.delivered_through, through)

    # ------------------------------------------------------------------ work

    def advance(self) -> list[Finding]:
        """Check everything delivered so far; return the findings this call made."""
        before = len(self.tally.findings)
        if self.height == 0:
            self._check_published(0)
        agreed = self._extend()
        replayed = self._replayer.replay([committed for committed, _ in agreed])
        for (committed, holders), outcome in zip(agreed, replayed, strict=True):
            self._replay_one(committed, holders, outcome)
        for node in self._nodes.values():
            if node.up:
                self._compare(node)
        if agreed:
            self._audit.check_elections(self._replayer)
        self._flush()
        for height in [h for h in self._recent if h <= self.height - RECENT_BLOCKS]:
            del self._recent[height]
        return self.tally.findings[before:]

    def _note(self, check: Check, height: int, node: str, record: str, detail: str) -> None:
        """A per-node discrepancy; the same one on several nodes becomes one finding naming them all."""
        self._batch.setdefault((check, height, record, detail), []).append(node)

    def _flush(self) -> None:
        for (check, height, record, detail), nodes in sorted(self._batch.items(), key=lambda kv: kv[0][1]):
            self.tally.fail(Finding(check, height, tuple(sorted(set(nodes))), record, detail))
        self._batch.clear()

    def _extend(self) -> list[tuple[ledger_pb2.CommittedBlock, tuple[str, ...]]]:
        out: list[tuple[ledger_pb2.CommittedBlock, tuple[str, ...]]] = []
        while True:
            height = self.height + 1
            holders = [
                (n.info.name, n.buffer[height]) for n in self._nodes.values() if n.up and height in n.buffer
            ]
            if not holders:
                return out
            chosen = self._choose(height, holders)
            if chosen is None:
                self._report_stuck(height, holders)
                return out
            header = chosen.block.header
            self._ids.append(block_id(header))
            self._digests.append(content_digest(chosen.block))
            self._last_time = header.time_ms
            names = tuple(name for name, c in holders if block_id(c.block.header) == self._ids[-1])
            out.append((chosen, names))

    def _choose(
        self, height: int, holders: Sequence[tuple[str, ledger_pb2.CommittedBlock]]
    ) -> ledger_pb2.CommittedBlock | None:
        """The agreed block at `height`, or None; names validators behind conflicting certificates."""
        parent = self._ids[-1] if self._ids else b""
        chosen, certified = choose(self.genesis, height, holders, parent, self._last_time)
        finding = accountability(self.genesis, height, certified, holders)
        if finding is None:
            self.tally.ok(Check.ACCOUNTABILITY)
        else:
            self.tally.fail(finding)
        return chosen

    def _report_stuck(self, height: int, holders: Sequence[tuple[str, ledger_pb2.CommittedBlock]]) -> None:
        """No served block at `height` is whole, linked and certified: name what each node serves."""
        if self._stuck_reported == height:
            return
        self._stuck_reported = height
        for name, committed in holders:
            check, why = self._version_problem(height, committed)
            self._note(check, height, name, "block", f"{why}; no certified block extends the chain here")

    def _version_problem(self, height: int, committed: ledger_pb2.CommittedBlock) -> tuple[Check, str]:
        problem = header_problem(self.genesis, committed.block, height) or self._link_problem(committed)
        if problem is not None:
            return Check.HEADER, problem
        cert = certificate_problem(self.genesis, committed, height)
        return Check.CERTIFICATE, cert or "not agreed"

    def _link_problem(self, committed: ledger_pb2.CommittedBlock) -> str | None:
        header = committed.block.header
        parent_height = header.height - 1
        if 0 < parent_height <= self.height:
            parent = self._ids[parent_height - 1]
        elif parent_height == 0:
            parent = b""
        else:
            return None
        if header.prev_block_hash != parent:
            return "previous block hash does not link to the agreed parent"
        return None

    # ------------------------------------------------------------------ replay

    def _replay_one(
        self, committed: ledger_pb2.CommittedBlock, holders: tuple[str, ...], replayed: Replayed
    ) -> None:
        """Judge one replayed block at once: the replayer's state is the state right after it."""
        header = committed.block.header
        height = header.height
        expected_results = self._results_roots[-1] if self._results_roots else GENESIS_RESULTS_ROOT
        assert replayed.height == height <= self.height, (replayed.height, height, self.height)
        record = f"block {short(self._ids[height - 1])}"
        if header.app_hash != replayed.app_hash_before:
            self.tally.fail(
                Finding(Check.APP_HASH, height, holders, record, "app hash differs from the replayed state")
            )
        elif header.results_hash != expected_results:
            self.tally.fail(
                Finding(
                    Check.APP_HASH, height, holders, record, "results root differs from the replayed results"
                )
            )
        else:
            self.tally.ok(Check.APP_HASH)
        self._results_roots.append(results_root(replayed.results))
        self._recent[height] = (committed, replayed.results)
        self._audit.observe_block(height, committed.block.txs, replayed.results, self._replayer)
        self._evidence.observe_block(height, committed.block)
        self._check_published(height)

    def _check_published(self, height: int) -> None:
        for node in self._nodes.values():
            if node.up and node.published is not None and node.published.height == height:
                self._compare_published(node.info.name, node.published)
                node.published = None

    def _compare_published(self, name: str, published: Published) -> None:
        passed, found = compare.published_state(self._replayer.elections(), published.elections)
        self._record(passed, found, Check.PUBLISHED_STATE, published.height, name)
        if published.records is not None:
            passed, found = compare.state_records(self._replayer.kv.snapshot(), published.records)
            self._record(passed, found, Check.PUBLISHED_STATE, published.height, name)

    def _record(
        self, passed: int, found: list[compare.Discrepancy], check: Check, height: int, name: str
    ) -> None:
        if passed:
            self.tally.ok(check, passed)
        for failed, record, detail in found:
            self._note(failed, height, name, record, detail)

    # ------------------------------------------------------------------ per node

    def _compare(self, node: NodeState) -> None:
        name = node.info.name
        for height in sorted(h for h in node.buffer if h <= self.height):
            committed = node.buffer.pop(height)
            if height > node.next_expected:
                self._missing(node, node.next_expected, height - 1)
            node.next_expected = height + 1
            self.tally.ok(Check.COMPLETENESS)
            self._compare_block(name, height, committed)
            node.verified_height = max(node.verified_height, height)
        upto = min(node.delivered_through, node.info.height, self.height)
        if upto >= node.next_expected:
            self._missing(node, node.next_expected, upto)
            node.next_expected = upto + 1

    def _missing(self, node: NodeState, first: int, last: int) -> None:
        assert first <= last, (first, last)
        span = f"heights {first}..{last}" if last > first else f"height {first}"
        self._note(
            Check.COMPLETENESS,
            first,
            node.info.name,
            "block",
            f"{span} not served (node reports {node.info.height})",
        )

    def _compare_block(self, name: str, height: int, committed: ledger_pb2.CommittedBlock) -> None:
        problem = header_problem(self.genesis, committed.block, height) or self._link_problem(committed)
        if problem is None:
            self.tally.ok(Check.HEADER)
        else:
            self._note(
                Check.HEADER, height, name, f"block {short(block_id(committed.block.header))}", problem
            )
        cert = certificate_problem(self.genesis, committed, height)
        if cert is None:
            self.tally.ok(Check.CERTIFICATE)
        else:
            self._note(Check.CERTIFICATE, height, name, "certificate", cert)
        agreed = self._recent.get(height)
        served_id = block_id(committed.block.header)
        if served_id != self._ids[height - 1]:
            detail = f"serves block {short(served_id)}, the agreed block is {short(self._ids[height - 1])}"
            self._note(Check.AGREEMENT, height, name, "block", detail)
            return
        if content_digest(committed.block) != self._digests[height - 1]:
            record = "block"
            if agreed is not None:
                index = first_differing_tx(committed.block, agreed[0].block)
                if index is not None and index < len(committed.block.txs):
                    record = f"{tx_record(committed.block.txs[index])} at index {index}"
            self._note(Check.AGREEMENT, height, name, record, "block body differs from the agreed block")
            return
        self.tally.ok(Check.AGREEMENT)
        self._compare_results(name, height, committed, agreed)

    def _compare_results(
        self,
        name: str,
        height: int,
        committed: ledger_pb2.CommittedBlock,
        agreed: tuple[ledger_pb2.CommittedBlock, tuple[election_pb2.TxResult, ...]] | None,
    ) -> None:
        stored = list(committed.results)
        if agreed is None:
            if results_root(stored) == self._results_roots[height - 1]:
                self.tally.ok(Check.REPLAY, len(stored))
            else:
                self._note(Check.REPLAY, height, name, "results", "stored results differ from the replay")
            return
        passed, found = compare.results(committed.block.txs, agreed[1], stored)
        self._record(passed, found, Check.REPLAY, height, name)

    # ------------------------------------------------------------------ output

    def report(self) -> Report:
        return node_report(self.genesis, self.height, self._nodes.values(), self.tally, self._lag_tolerance)
