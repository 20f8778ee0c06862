"""Committed state seen through the writes of the block being executed.

Transactions in a block see the effects of earlier ones in the same block. Election records are
parsed once per block and kept here as mutable protos; they are serialised into the write set once,
at the end of the block, so a ballot costs O(1) writes however many ballots the block carries.
"""

from __future__ import annotations

from node.ledger import state_keys
from node.ledger.kv import StateReader
from proto.votestore.v1 import election_pb2
from votestore.encoding import canonical


class StateView:
    __slots__ = ("_dirty", "_elections", "_reader", "_writes")

    def __init__(self, reader: StateReader) -> None:
        self._reader = reader
        self._writes: dict[bytes, bytes | None] = {}
        self._elections: dict[str, election_pb2.ElectionState | None] = {}
        self._dirty: set[str] = set()

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        return self._reader.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        assert not key.startswith(b"e/"), "election records go through put_election"
        self._writes[key] = value

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

    def writes(self) -> dict[bytes, bytes | None]:
        """The block's write set, with every touched election record serialised once."""
        out = dict(self._writes)
        for election_id in sorted(self._dirty):
            record = self._elections[election_id]
            assert record is not None, election_id
            out[state_keys.election(election_id)] = canonical(record)
        return out
