"""Committed state seen through the writes of the block being executed.

Transactions in a block see the effects of earlier ones in the same block. Election records are
parsed once per block and kept here as mutable protos; they are serialised into the write set once,
at the end of the block, so a ballot costs O(1) writes however many ballots the block carries.

A ballot's ciphertexts join the running tally lazily: they wait here and are added once, when the
block's writes are taken or a handler asks for the settled aggregate. A mempool check, which never
takes its writes, does no tally work at all. A ballot's points are decoded once, for the sum, or
not at all when this node's verify worker, which decoded them to check the proofs, handed them
over (`tally.handover`: ~40 us less a 4-choice ballot in the loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from election import state_keys
from election.kv import StateReader
from proto.votestore.v1 import election_pb2
from votestore.crypto import decaf, tally
from votestore.encoding import canonical


@dataclass(slots=True)
class _Queued:
    """An election's ballots waiting for the running tally: their ciphertexts as encoded, or as
    this node's verify worker handed them over."""

    encoded: list[Sequence[election_pb2.Ciphertext]] = field(default_factory=list)
    handed: list[bytes] = field(default_factory=list)


class StateView:
    __slots__ = ("_dirty", "_elections", "_pending_tally", "_reader", "_writes")

    def __init__(self, reader: StateReader) -> None:
        self._reader = reader
        self._writes: dict[bytes, bytes | None] = {}
        self._elections: dict[str, election_pb2.ElectionState | None] = {}
        self._dirty: set[str] = set()
        self._pending_tally: dict[str, _Queued] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        return self._reader.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        assert not key.startswith(b"e/"), "election records go through put_election"
        self._writes[key] = value

    @property
    def untouched(self) -> bool:
        """Nothing written or queued yet: what checks that share one view must leave it."""
        return not (self._writes or self._dirty or self._pending_tally)

    def election(self, election_id: str) -> election_pb2.ElectionState | None:
        """The election record; mutate it only in a handler's apply phase, then `touch` it."""
        if election_id not in self._elections:
            raw = self._reader.get(state_keys.election(election_id))
            record = None
            if raw is not None:
                record = election_pb2.ElectionState()
                record.ParseFromString(raw)
            self._elections[election_id] = record
        return self._elections[election_id]

    def put_election(self, record: election_pb2.ElectionState) -> None:
        election_id = record.definition.election_id
        self._elections[election_id] = record
        self._dirty.add(election_id)

    def touch(self, election_id: str) -> None:
        assert self._elections.get(election_id) is not None, election_id
        self._dirty.add(election_id)

    def add_to_tally(
        self, election_id: str, selections: Sequence[election_pb2.Ciphertext], handed: bytes = b""
    ) -> None:
        """Queue a counted ballot's ciphertexts (validated with its proofs) for the running tally;
        `handed`: the same ciphertexts as this node's verify worker decoded them (`tally.handover`),
        or empty, and then they are decoded when added."""
        queued = self._pending_tally.setdefault(election_id, _Queued())
        if handed:
            assert len(handed) == 2 * len(selections) * decaf.INTERNAL_BYTES, (len(handed), len(selections))
            queued.handed.append(handed)
        else:
            queued.encoded.append(selections)
        self.touch(election_id)

    def settled(self, record: election_pb2.ElectionState) -> election_pb2.ElectionState:
        """The record with every queued ballot added into its aggregate."""
        queued = self._pending_tally.pop(record.definition.election_id, None)
        if queued is not None:
            sums = tally.add_ballots(record.aggregate, queued.encoded, queued.handed)
            for position, total in enumerate(sums):
                record.aggregate[position].CopyFrom(total)
        return record

    def writes(self) -> dict[bytes, bytes | None]:
        """The block's write set, with every touched election record serialised once."""
        for election_id in list(self._pending_tally):
            record = self._elections[election_id]
            assert record is not None, election_id
            self.settled(record)
        out = dict(self._writes)
        for election_id in sorted(self._dirty):
            record = self._elections[election_id]
            assert record is not None, election_id
            out[state_keys.election(election_id)] = canonical(record)
        return out
