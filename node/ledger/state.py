"""Application state every record of which is checked, when read, against what the chain's app
hashes commit to — at a cost per read that does not grow with the chain or the state.

Layout (keys relative to the store, `h8` a height as 8 bytes big-endian):
- `a/<key>` → `h8 ‖ value`: the state record and the height whose block wrote it last;
- `j/<h8><key>` → `0x01 ‖ value` (a put) or `0x00` (a delete): the journal of height h, one
  record per write. LevelDB orders these keys as `encode_writes` orders a block's writes, so a
  range scan of `j/<h8>` re-encodes exactly the bytes whose digest app_hash(h) chains in.

Reading `a/<key>` checks (`StateRecords.get`): the record's value equals its journal entry at
the height it names, and that height's journal is sound — once per height, kept in a bounded
LRU: app_hash(h) recomputed from app_hash(h-1) and the journal's digest equals the stored one,
and both app hashes are the ones the certified headers carry (block h+1's header carries
app_hash(h); its certificate is checked against the genesis validators). The tip's app hash is
certified by no header yet; the start-up check compares it with the application state's own.

What this does not see per read: a record that is missing (deleted, or its key damaged so it
moved) reads as absent, and a record rolled back by someone who rewrote both its value and its
height to an older write of the same key. `votestore node check` (node.ledger.walk) sees both:
it replays the journals' last writes against the records. A sparse Merkle tree would prove
absence per read, at a protocol change and ~26 hashes a write for a 44 M roll (docs/design.md).

Bookkeeping records (`m/…`, not in the app hash) are checked against the store's own: the
height and app hash of the tip.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from election.app_hash import chained_app_hash, writes_digest
from election.state_keys import META_APP_HASH, META_HEIGHT, META_PREFIX, META_TIME, describe
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id
from votestore.errors import StoreCorrupted

if TYPE_CHECKING:
    from node.ledger.store import Store

STATE: Final = b"a/"
JOURNAL: Final = b"j/"
_H: Final = struct.Struct(">Q")
_PUT: Final = b"\x01"
_DELETE: Final = b"\x00"
VERIFIED_HEIGHTS: Final = 8192
"""Heights whose journal and app hashes were checked, kept: a 44 M roll appended at ~100,000
voters a block spans ~440 heights, so a roll's every height stays checked after its first read."""


def state_key(key: bytes) -> bytes:
    return STATE + key


def journal_prefix(height: int) -> bytes:
    return JOURNAL + _H.pack(height)


def put_writes(batch: Any, height: int, writes: Mapping[bytes, bytes | None]) -> None:
    """Add a block's application writes to its write batch: the records, tagged with the height,
    and the height's journal (bookkeeping `m/…` keys are not journaled: not in the app hash)."""
    tag = _H.pack(height)
    journal = journal_prefix(height)
    for key, value in writes.items():
        meta = key.startswith(META_PREFIX)
        if value is None:
            batch.delete(STATE + key)
            if not meta:
                batch.put(journal + key, _DELETE)
        else:
            batch.put(STATE + key, tag + value)
            if not meta:
                batch.put(journal + key, _PUT + value)


def split_record(key: bytes, raw: bytes) -> tuple[int, bytes]:
    """(height, value) of a stored state record; StoreCorrupted if it is too short to hold one."""
    if len(raw) < _H.size:
        raise StoreCorrupted(0, f"state record {describe(key)} is {len(raw)} bytes, too short for its height")
    return int(_H.unpack_from(raw)[0]), raw[_H.size :]


def journal_writes(db: Any, height: int) -> dict[bytes, bytes | None]:
    """The writes the journal of `height` records (StoreCorrupted naming an entry that is neither
    a put nor a delete)."""
    writes: dict[bytes, bytes | None] = {}
    for key, entry in db.iterator(prefix=journal_prefix(height), include_key=True):
        app_key = key[len(JOURNAL) + _H.size :]
        if entry == _DELETE:
            writes[app_key] = None
        elif entry[:1] == _PUT:
            writes[app_key] = entry[1:]
        else:
            raise StoreCorrupted(
                height, f"journal entry for {describe(app_key)} is neither a put nor a delete"
            )
    return writes


def stored_value(raw: bytes) -> bytes:
    """A record's value as stored, unchecked (a record too short for its height: as it is)."""
    return raw[_H.size :] if len(raw) >= _H.size else raw


class UncheckedRecords:
    """State as the store holds it, nothing checked: for exporting a store its node refuses to
    serve, so that the verifier, not this reader, judges each record."""

    __slots__ = ("_db",)

    def __init__(self, db: Any) -> None:
        self._db = db

    def get(self, key: bytes) -> bytes | None:
        raw: bytes | None = self._db.get(STATE + key)
        return None if raw is None else stored_value(raw)


class StateRecords:
    """The application's view of committed state, each record checked as it is read (see the
    module docstring); the node's StateReader. Not thread-safe, like the store."""

    __slots__ = ("_db", "_store", "_verified")

    def __init__(self, db: Any, store: Store) -> None:
        self._db = db
        self._store = store
        self._verified: OrderedDict[int, None] = OrderedDict()

    def get(self, key: bytes) -> bytes | None:
        raw: bytes | None = self._db.get(STATE + key)
        if raw is None:
            return None
        height, value = split_record(key, raw)
        if key.startswith(META_PREFIX):
            self._check_meta(key, height, value)
            return value
        if not 1 <= height <= self._store.height:
            raise StoreCorrupted(
                self._store.height, f"state record {describe(key)} names height {height}, not a stored one"
            )
        entry: bytes | None = self._db.get(journal_prefix(height) + key)
        if entry != _PUT + value:
            said = "has no entry for it" if entry is None else "records another value"
            raise StoreCorrupted(height, f"state record {describe(key)}: the journal of its height {said}")
        self.verify_height(height)
        return value

    def verified(self, height: int) -> None:
        """`height`'s journal is sound without a check: this node just wrote it, with the app hash
        it computed from the same writes."""
        self._remember(height)

    def verify_height(self, height: int) -> None:
        """Check, once per height while it stays in the LRU, that the journal of `height` hashes
        into app_hash(height) from app_hash(height-1), both as the certified headers carry them."""
        if height in self._verified:
            self._verified.move_to_end(height)
            return
        writes = journal_writes(self._db, height)
        if chained_app_hash(self._certified_app_hash(height - 1), writes_digest(writes)) != (
            self._certified_app_hash(height)
        ):
            named = "; ".join(describe(key) for key in self._unlike_their_records(height, writes))
            raise StoreCorrupted(
                height,
                "the journal of this height does not hash into its app hash"
                + (f" (its entry differs from the live record: {named})" if named else ""),
            )
        self._remember(height)

    def _unlike_their_records(self, height: int, writes: Mapping[bytes, bytes | None]) -> list[bytes]:
        """Keys whose journal entry at `height` differs from their live record naming `height`:
        the likely damaged entries, to name in the error (a failed journal only)."""
        unlike = []
        for key, value in writes.items():
            raw = self._db.get(STATE + key)
            named = raw is not None and len(raw) >= _H.size and _H.unpack_from(raw)[0] == height
            if named and raw is not None and raw[_H.size :] != value:
                unlike.append(key)
        return unlike

    def _remember(self, height: int) -> None:
        self._verified[height] = None
        self._verified.move_to_end(height)
        while len(self._verified) > VERIFIED_HEIGHTS:
            self._verified.popitem(last=False)

    def _certified_app_hash(self, height: int) -> bytes:
        """app_hash(height): the genesis one at 0, the stored one at the tip (certified by no
        header yet), else the stored record, which must equal what block height+1's certified
        header carries."""
        store = self._store
        if height == 0:
            return store.genesis_tip().app_hash
        stored = store.app_hash_at(height)
        if height == store.height:
            return stored
        child = store.block(height + 1)
        try:
            verify_certificate(
                store.genesis.chain_id,
                store.genesis.validator_keys(),
                store.certificate(height + 1),
                block_id=block_id(child.header),
                height=height + 1,
            )
        except CertificateInvalid as exc:
            raise StoreCorrupted(height + 1, str(exc)) from None
        if child.header.app_hash != stored:
            raise StoreCorrupted(height, "app hash record differs from the one the next header carries")
        return stored

    def _check_meta(self, key: bytes, height: int, value: bytes) -> None:
        store = self._store
        expected = {
            META_HEIGHT: lambda: struct.pack(">q", store.height),
            META_TIME: lambda: struct.pack(">q", store.tip.time_ms),
            META_APP_HASH: lambda: store.app_hash_at(store.height),
        }.get(key)
        if height != store.height or (expected is not None and value != expected()):
            raise StoreCorrupted(
                store.height, f"bookkeeping record {describe(key)} differs from the chain's tip"
            )
