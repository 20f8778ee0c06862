"""Double votes found whenever they arrive: kept, gossiped, and handed to this node's blocks.

The consensus core sees a double vote only while its height runs (and drops every vote for a
height it has passed). This pool sees every signed vote the node meets — its peers', relayed or
not, and its own — and compares it, whatever its height inside the evidence window
(votestore.evidence.EVIDENCE_WINDOW), with

- the votes it saw before for that validator, height, round and type (kept in memory for the
  window: prevotes too, which no certificate holds), and
- for a precommit of a committed height, the validator's precommit in that height's stored
  certificate (on disk, so a restart does not forget it).

So a twin that signs at a height the honest holder of its key signed long ago — after every
peer moved on — is caught all the same. Evidence found here, in the core
(`RecordEvidence`) or received from a peer is checked (both signatures under the chain id,
`votestore.blocks.check_evidence`), kept in the store until a block commits it, sent to every
peer when this node found it and to each peer whose link comes up while it is pending, and
offered to this node's proposals (`for_block`).

Bounds: one piece of evidence per (validator, height) — one proof is enough, and the block rule
commits a pair once —, MAX_PENDING_EVIDENCE pending in all (the store's bound), and at most
MAX_SLOTS_PER_VALIDATOR_HEIGHT (round, type) slots of votes kept per validator and height, each
vote's signature checked before it takes a slot, so a relay of forged votes cannot crowd out a
genuine one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from node.ledger.store import MAX_PENDING_EVIDENCE, Store
from node.metrics import NodeMetrics
from proto.votestore.v1 import ledger_pb2, peer_pb2
from votestore.blocks import BlockInvalid, check_evidence, check_vote_signature
from votestore.evidence import (
    EVIDENCE_WINDOW,
    MAX_EVIDENCE_PER_BLOCK,
    CommittedEvidence,
    EvidenceKey,
    evidence_key,
    in_window,
)
from votestore.genesis import Genesis

log = logging.getLogger("votestore.node")

MAX_SLOTS_PER_VALIDATOR_HEIGHT: Final = 16
"""(round, type) slots of one validator's votes kept per height: eight rounds of a prevote and
a precommit. A correct validator signs two votes a round and heights seldom pass round 2."""

Slot = tuple[int, int]
"""(round, vote type)."""


def committed_evidence(store: Store) -> CommittedEvidence:
    """The pairs the stored chain committed whose height a next block could still carry
    evidence for: read from the last EVIDENCE_WINDOW + 1 blocks (a start costs the same after a
    year of blocks)."""
    committed = CommittedEvidence()
    for height in range(max(1, store.height - EVIDENCE_WINDOW), store.height + 1):
        committed.add_block(height, store.block(height).evidence)
    return committed


class EvidencePool:
    """`send_all` reaches every peer (Peers.send_all); `committed` is valid(v)'s own record of
    committed pairs (BlockValidity.committed_evidence), moved on by `block_committed`."""

    def __init__(
        self,
        *,
        genesis: Genesis,
        store: Store,
        committed: CommittedEvidence,
        metrics: NodeMetrics,
        send_all: Callable[[peer_pb2.PeerMessage], None],
    ) -> None:
        self._chain_id = genesis.chain_id
        self._keys = genesis.validator_keys()
        self._names = [v.name for v in genesis.validators]
        self._store = store
        self._committed = committed
        self._metrics = metrics
        self._send_all = send_all
        self._seen: dict[EvidenceKey, dict[Slot, ledger_pb2.Vote]] = {}
        self._pending: dict[EvidenceKey, ledger_pb2.Evidence] = {}
        self._byzantine: set[int] = set()
        for evidence in store.pending_evidence():
            if self._current(evidence):
                self._pending.setdefault(evidence_key(evidence), evidence)
            else:
                store.drop_evidence(evidence)

    # ------------------------------------------------------------------ what arrives

    def heard(self, vote: ledger_pb2.Vote) -> None:
        """A signed vote met here (a peer's or this node's own): keep it, or find it a double vote."""
        key = (vote.validator, vote.height)
        if key in self._pending or key in self._committed or vote.validator >= len(self._keys):
            return
        if not in_window(vote.height, self._store.height + 1):
            return
        slots = self._seen.get(key, {})
        slot = (vote.round, vote.type)
        held = slots.get(slot)
        if held is not None:
            if held.block_id != vote.block_id:
                self.found(_pair(held, vote))
            return
        full = len(slots) >= MAX_SLOTS_PER_VALIDATOR_HEIGHT
        if full and (vote.type != ledger_pb2.PRECOMMIT or vote.height > self._store.height):
            return  # no slot for it, no certificate to hold it against: not worth a check
        try:
            check_vote_signature(self._chain_id, self._keys, vote, "heard")
        except BlockInvalid:
            if vote.height <= self._store.height:  # the core counts those of the running height
                self._metrics.invalid_messages.labels(reason="bad_signature_late").inc()
            return
        certified = self._certified(vote)
        if certified is not None and certified.block_id != vote.block_id:
            self.found(_pair(certified, vote))
            return
        if not full:
            kept = ledger_pb2.Vote()
            kept.CopyFrom(vote)
            self._seen.setdefault(key, slots)[slot] = kept
        assert len(slots) <= MAX_SLOTS_PER_VALIDATOR_HEIGHT

    def received(self, evidence: ledger_pb2.Evidence) -> None:
        """Evidence a peer sent: kept if it proves itself; not sent on (the finder sent it to all).
        One already held or committed is what every honest finder sends (ignored); one that
        is stale or does not prove itself is a fault (invalid)."""
        key = evidence_key(evidence)
        if key in self._pending or key in self._committed:
            return self._metrics.ignored_messages.labels(reason="duplicate").inc()
        if not self.found(evidence, gossip=False):
            self._metrics.invalid_messages.labels(reason="bad_evidence").inc()

    def found(self, evidence: ledger_pb2.Evidence, *, gossip: bool = True) -> bool:
        """Keep a double vote until a block commits it; True if it is new here and proves itself."""
        key = evidence_key(evidence)
        if key in self._pending or key in self._committed or not self._current(evidence):
            return False
        try:
            check_evidence(self._chain_id, self._keys, evidence)
        except BlockInvalid:
            return False
        if len(self._pending) >= MAX_PENDING_EVIDENCE or not self._store.add_evidence(evidence):
            return False
        self._pending[key] = evidence
        assert len(self._pending) <= MAX_PENDING_EVIDENCE
        validator, height = key
        self._metrics.evidence.inc()
        self._byzantine.add(validator)
        self._metrics.byzantine.set(len(self._byzantine))
        log.warning(
            "event=evidence validator=%d name=%s height=%d round=%d type=%s",
            validator,
            self._names[validator],
            height,
            evidence.vote_a.round,
            ledger_pb2.VoteType.Name(evidence.vote_a.type).lower(),
        )
        if gossip:
            self._send_all(peer_pb2.PeerMessage(evidence=evidence))
        return True

    def for_new_link(self) -> list[peer_pb2.PeerMessage]:
        """Pending evidence for a peer whose link just came up: it may have been down when the
        evidence was found and sent, and any validator that holds it can commit it."""
        return [peer_pb2.PeerMessage(evidence=e) for _, e in sorted(self._pending.items())]

    # ------------------------------------------------------------------ blocks

    def for_block(self, height: int) -> list[ledger_pb2.Evidence]:
        """Pending evidence block `height` may carry (votestore.evidence.check_block_evidence)."""
        fit = [
            self._pending[key]
            for key in sorted(self._pending)
            if in_window(key[1], height) and key not in self._committed
        ]
        return fit[:MAX_EVIDENCE_PER_BLOCK]

    def block_committed(self, height: int, evidence: list[ledger_pb2.Evidence]) -> None:
        """Block `height` is stored: its evidence is committed; what left the window is dropped."""
        self._committed.add_block(height, evidence)
        self._metrics.evidence_committed.inc(len(evidence))
        for key, held in list(self._pending.items()):
            if key in self._committed or not self._current(held):
                del self._pending[key]
                self._store.drop_evidence(held)
        for key in [k for k in self._seen if not in_window(k[1], height + 1)]:
            del self._seen[key]

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------ helpers

    def _current(self, evidence: ledger_pb2.Evidence) -> bool:
        """Whether the next block may still carry it."""
        return in_window(evidence.vote_a.height, self._store.height + 1)

    def _certified(self, vote: ledger_pb2.Vote) -> ledger_pb2.Vote | None:
        """The validator's precommit in the stored certificate of `vote`'s height and round, if
        `vote` is a precommit of a committed height and the certificate holds one of it."""
        if vote.type != ledger_pb2.PRECOMMIT or vote.height > self._store.height:
            return None
        certificate = self._store.certificate(vote.height)
        if certificate.round != vote.round:
            return None
        for sig in certificate.signatures:
            if sig.validator == vote.validator:
                return ledger_pb2.Vote(
                    type=ledger_pb2.PRECOMMIT,
                    height=certificate.height,
                    round=certificate.round,
                    block_id=certificate.block_id,
                    validator=sig.validator,
                    signature=sig.signature,
                )
        return None


def _pair(earlier: ledger_pb2.Vote, later: ledger_pb2.Vote) -> ledger_pb2.Evidence:
    return ledger_pb2.Evidence(vote_a=earlier, vote_b=later)
