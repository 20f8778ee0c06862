"""Admission: judge an arriving transaction and keep it for a block, or say why not.

The stateless check (signatures, proofs) runs once per transaction on the verify pool
(`StatelessChecks`); the stateful check against committed state runs here, in the loop. A
transaction taken is handed to `PendingTxs` with what its checks learnt, and the listeners hear
of it (gossip announces a client's transaction; the proposer may be waiting for one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from election.app import ElectionApp
from election.stateless import ElectionParams
from node.intake import Arrival, Checked, StatelessChecks
from node.ledger.store import Store
from node.mempool import MempoolFull
from node.metrics import NodeMetrics
from node.pending import PendingTxs
from proto.votestore.v1 import election_pb2
from votestore.encoding import tx_hash


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    tx_hash: bytes
    code: int
    detail: str
    committed: bool = False


class Resources(Exception):
    """The node cannot take more now (mempool or event queue at its bound)."""


class Admission:
    def __init__(
        self,
        *,
        store: Store,
        app: ElectionApp,
        pending: PendingTxs,
        checks: StatelessChecks,
        metrics: NodeMetrics,
    ) -> None:
        self._store = store
        self._app = app
        self._pending = pending
        self._checks = checks
        self._metrics = metrics
        self._params: dict[str, ElectionParams] = {}  # opened elections, at most MAX_ELECTIONS
        self._on_client_tx: list[Callable[[bytes], None]] = []
        self._on_arrival: list[Callable[[], None]] = []

    def listen(
        self, *, client_tx: Callable[[bytes], None] | None = None, arrival: Callable[[], None] | None = None
    ) -> None:
        """`client_tx(h)`: a transaction from a client was taken; `arrival()`: the mempool grew."""
        if client_tx is not None:
            self._on_client_tx.append(client_tx)
        if arrival is not None:
            self._on_arrival.append(arrival)

    async def submit(self, raw: bytes, *, from_peer: bool = False) -> SubmitOutcome:
        """Check a transaction and keep it for a block; the answer says why if it was refused.
        Raises Resources at the mempool's bound."""
        (outcome,) = await self.submit_many([raw], from_peer=from_peer)
        if isinstance(outcome, Resources):
            raise outcome
        return outcome

    async def submit_many(
        self, raws: Sequence[bytes], *, from_peer: bool = False
    ) -> list[SubmitOutcome | Resources]:
        """`submit` for each transaction, answers in order, Resources in the place of each one the
        full mempool could not take. The checks share one wait: no task and future per
        transaction, as gathering `submit`s costs. (A transaction over MAX_TX_BYTES is answered
        MALFORMED, by its stateless check.) Each is decoded once here for what routes it."""
        arrivals = [Arrival.of(tx_hash(raw), raw) for raw in raws]
        fresh = [
            a for a in arrivals if self._known(a.tx_hash) is None and not self._pending.is_verified(a.tx_hash)
        ]
        refused = {h: result for h, result in ((a.tx_hash, self.cheap_refusal(a)) for a in fresh) if result}
        unchecked = [(a, self.params_for(a)) for a in fresh if a.tx_hash not in refused]
        answers = await self._checks.check(unchecked)
        checked = dict(zip([a.tx_hash for a, _ in unchecked], answers, strict=True))
        checked.update((h, Checked(result)) for h, result in refused.items())
        size = len(self._pending)
        outcomes = [self._take(a, checked, from_peer) for a in arrivals]
        if len(self._pending) > size:
            for listener in self._on_arrival:
                listener()
            self._metrics.mempool_txs.set(len(self._pending))
            self._metrics.mempool_bytes.set(self._pending.size_bytes)
        return outcomes

    def cheap_refusal(self, arrival: Arrival) -> election_pb2.TxResult | None:
        """The refusal of a transaction's state checks (size, phase, window, roll, voted: a few
        microseconds) against committed state, or None: a transaction they refuse never costs a
        signature or proof check (issue 18, attack 3)."""
        if arrival.decoded is None:
            return None  # its stateless check answers MALFORMED
        result = self._app.check_decoded(arrival.tx_hash, arrival.decoded, preverified=True)
        return None if result.code == election_pb2.OK else result

    def _known(self, h: bytes) -> SubmitOutcome | None:
        """The answer for a transaction committed or pending here, else None."""
        if self._store.locate(h) is not None:
            return SubmitOutcome(h, election_pb2.OK, "already committed", committed=True)
        if h in self._pending:
            return SubmitOutcome(h, election_pb2.OK, "already pending")
        return None

    def _take(
        self, arrival: Arrival, checked: Mapping[bytes, Checked | None], from_peer: bool
    ) -> SubmitOutcome | Resources:
        """Judge a transaction against committed state once its stateless check (in `checked`
        unless it passed one before) is done, and keep it if it passes."""
        h = arrival.tx_hash
        known = self._known(h)  # again: committed meanwhile, or this batch's earlier copy
        if known is not None:
            return known
        points = b""
        if h in checked:
            answer = checked[h]
            assert answer is not None, "a check answers None only for a committed transaction"
            if answer.result.code != election_pb2.OK:
                return self._refuse(h, answer.result)
            self._pending.remember_verified(h)
            points = answer.tally_points
        assert arrival.decoded is not None, "a transaction that does not decode fails its check"
        result = self._app.check_decoded(h, arrival.decoded, preverified=True)
        if result.code != election_pb2.OK:
            return self._refuse(h, result)
        try:
            added = self._pending.add(arrival, points)
        except MempoolFull as exc:
            self._metrics.tx_refused.labels(reason="MEMPOOL_FULL").inc()
            return Resources(str(exc))
        if added and not from_peer:
            for listener in self._on_client_tx:
                listener(h)
        return SubmitOutcome(h, election_pb2.OK, "pending")

    def params_for(self, arrival: Arrival) -> ElectionParams | None:
        """The parameters its check needs, from committed state. An election's parameters never
        change once its key is set: read and parse them once."""
        cached = self._params.get(arrival.election_id)
        if cached is not None or arrival.kind == "malformed":
            return cached
        record = self._app.election_state(arrival.election_id)
        if record is None:
            return None
        params = ElectionParams.of(record)
        if params.election_key:
            self._params[arrival.election_id] = params
        return params

    def _refuse(self, h: bytes, result: election_pb2.TxResult) -> SubmitOutcome:
        self._metrics.tx_refused.labels(reason=election_pb2.ResultCode.Name(result.code)).inc()
        return SubmitOutcome(h, result.code, result.detail)
