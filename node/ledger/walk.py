"""The offline walk of a stopped node's whole store (`votestore node check`): every keyspace, each
damaged record named with its height, all of them rather than the first.

- the chain: each block against its stored parent, its certificate, results and app hash record
  (the one per-height rule, node.ledger.chain_check), and the tip's app hash against the
  application state's;
- the journals: each height's journal hashes, from app_hash(h-1), into app_hash(h) — both
  certified by the chain walk (block h+1's header carries app_hash(h));
- the state records: each equal to its journal entry at the height it names, and that height the
  last write of its key (a record rolled back, or missing where its last write was a put, is
  named); bookkeeping records against the tip;
- the transaction index: each committed transaction's entry names its block and position, and
  no entry names anything else;
- the last-signed record, the check record and pending evidence: each decodes.

Memory: one entry per state key for the last-write check (~120 B a key: ~120 MB for a
1,000,000-voter roll); time: the chain's length. It reads only.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import DecodeError as ProtobufDecodeError

from election.app_hash import chained_app_hash, writes_digest
from election.state_keys import META_PREFIX, describe
from node.ledger.chain_check import ChainCheck
from node.ledger.state import JOURNAL, STATE, split_record
from node.ledger.store import Store
from node.ledger.tip import Tip
from node.wire import decode_last_signed
from proto.votestore.v1 import ledger_pb2
from votestore.encoding import tx_hash
from votestore.errors import StoreCorrupted

_H: Final = struct.Struct(">Q")
_LOCATION: Final = struct.Struct(">QI")
_PUT: Final = 1
_DELETE: Final = 0


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One damaged record: the height it belongs to (0: none), its keyspace, and what is wrong."""

    height: int
    keyspace: str
    what: str

    def line(self) -> str:
        return f"damaged at height {self.height}: {self.keyspace}: {self.what}"


def walk(store: Store, progress: Callable[[int], None] = lambda _: None) -> list[Finding]:
    """Every damaged record of `store`, in height order (empty: the store checks clean)."""
    found: set[Finding] = set()
    certified = _chain(store, found, progress)
    last = _journals(store, certified, found)
    _state(store, last, found)
    _index(store, {f.height for f in found if f.keyspace == "chain"}, found)
    _records(store, found)
    return sorted(found)


def _chain(store: Store, found: set[Finding], progress: Callable[[int], None]) -> dict[int, bytes]:
    """Walk the chain; return the app hashes it certified, by height (0: genesis)."""
    check = ChainCheck(store)
    keys = store.genesis.validator_keys()
    certified = {0: store.genesis_tip().app_hash}
    parent: Tip | None = store.genesis_tip()
    for height in range(1, store.height + 1):
        try:
            if parent is None:
                parent = _claimed_parent(store, height)
            child = check.check_one(parent, height, keys)
            certified[height - 1] = parent.app_hash  # block `height`'s header carries it
            parent = child
        except StoreCorrupted as exc:
            found.add(Finding(exc.height, "chain", exc.why))
            parent = None
        progress(height)
    if parent is not None:
        certified[store.height] = parent.app_hash  # the tip's: checked against the state's below
        if store.height and store.app_state_hash() != parent.app_hash:
            found.add(Finding(store.height, "state", "application state's app hash differs from the chain's"))
    return certified


def _claimed_parent(store: Store, height: int) -> Tip:
    """The parent block `height` claims, from its own header: after damage at height-1, the walk
    goes on checking each block by itself (its certificate, roots, results) without blaming it
    for its damaged parent."""
    header = store.block(height).header
    return Tip(height - 1, header.prev_block_hash, 0, header.app_hash, header.results_hash)


def _journals(store: Store, certified: dict[int, bytes], found: set[Finding]) -> dict[bytes, tuple[int, int]]:
    """Check each height's journal against the certified app hashes; return each key's last
    write: (height, put or delete)."""
    last: dict[bytes, tuple[int, int]] = {}
    by_height: dict[int, dict[bytes, bytes | None]] = {}
    for key, entry in store.raw_items(JOURNAL):
        if len(key) < len(JOURNAL) + _H.size:
            found.add(Finding(0, "journal", f"entry key {key[:24].hex()} too short for a height"))
            continue
        height = int(_H.unpack_from(key, len(JOURNAL))[0])
        app_key = key[len(JOURNAL) + _H.size :]
        if not 1 <= height <= store.height:
            found.add(Finding(height, "journal", f"entry for {describe(app_key)} above the stored tip"))
            continue
        if entry[:1] == b"\x01":
            by_height.setdefault(height, {})[app_key] = entry[1:]
            last[app_key] = (height, _PUT)
        elif entry == b"\x00":
            by_height.setdefault(height, {})[app_key] = None
            last[app_key] = (height, _DELETE)
        else:
            found.add(
                Finding(height, "journal", f"entry for {describe(app_key)} is neither a put nor a delete")
            )
    for height in range(1, store.height + 1):
        previous, app_hash = certified.get(height - 1), certified.get(height)
        if previous is None or app_hash is None:
            continue  # the chain walk named this height or its parent
        if chained_app_hash(previous, writes_digest(by_height.get(height, {}))) != app_hash:
            found.add(Finding(height, "journal", "does not hash into the height's app hash"))
    return last


def _state(store: Store, last: dict[bytes, tuple[int, int]], found: set[Finding]) -> None:
    reader = store.app_reader()
    for store_key, raw in store.raw_items(STATE):
        key = store_key[len(STATE) :]
        try:
            height, _ = split_record(key, raw)
        except StoreCorrupted as exc:
            found.add(Finding(0, "state", exc.why))
            continue
        if not key.startswith(META_PREFIX):
            written = last.pop(key, None)
            if written is not None and written[0] != height:
                found.add(
                    Finding(
                        written[0],
                        "state",
                        f"{describe(key)} names height {height}, but its last write is at {written[0]}",
                    )
                )
                continue
        try:
            reader.get(key)
        except StoreCorrupted as exc:
            found.add(Finding(exc.height, "state", exc.why))
    for key, (height, kind) in last.items():
        if kind == _PUT:
            found.add(Finding(height, "state", f"{describe(key)} is missing (written at this height)"))


def _index(store: Store, damaged: set[int], found: set[Finding]) -> None:
    """Each committed transaction's entry, but in blocks the chain walk named (their
    transactions are not what was committed); then the count of entries."""
    entries = 0
    for height in range(1, store.height + 1):
        try:
            txs = store.block(height).txs
        except StoreCorrupted:
            continue  # named by the chain walk
        if height in damaged:
            entries += len(txs)
            continue
        for position, raw in enumerate(txs):
            entries += 1
            digest = tx_hash(raw)
            try:
                location = store.locate(digest)
            except StoreCorrupted as exc:
                found.add(Finding(height, "index", exc.why))
                continue
            if location is None or (location.height, location.index) != (height, position):
                found.add(Finding(height, "index", f"the entry for {digest.hex()[:16]} does not name it"))
    stored = sum(1 for _ in store.raw_items(b"t/"))
    if stored != entries:
        found.add(Finding(0, "index", f"{stored} entries for {entries} committed transactions"))


def _records(store: Store, found: set[Finding]) -> None:
    raw = store.last_signed()
    if raw is not None:
        try:
            decode_last_signed(raw, store.height)
        except StoreCorrupted as exc:
            found.add(Finding(exc.height, "last-signed", exc.why))
    record = store.check_record()
    if record is not None and len(record) != 8 + 32:
        found.add(
            Finding(0, "check record", f"{len(record)} bytes, not 40 (the next start checks everything)")
        )
    for key, value in store.raw_items(b"e/"):
        try:
            ledger_pb2.Evidence().ParseFromString(value)
        except ProtobufDecodeError:
            found.add(Finding(0, "evidence", f"pending evidence {key[2:].hex()} does not decode"))
