"""The node's LevelDB: blocks, certificates, results, the transaction index, application state
with its journal per height (node.ledger.state: each record checked as it is read) and the
consensus last-signed record, each under its own key prefix.

A committed block goes in as one write batch with sync: block, certificate, results, index
entries, the app hash it left, and the application's writes — applied whole or not at all.

Two checks, one per-height rule (`_check_height`): `check_chain` checks every stored block from
genesis (the offline `votestore node check`); `check_start` is the node's start-up check, whose
cost must not grow with the chain (a restarted validator has to pass its startupProbe after a year
of blocks). It checks the blocks above the recorded check (`k/checked`: height and block id the
last successful check reached), that the record still matches its block, the tip's app hash, and a
fixed number of older heights drawn at random, each against its stored parent, so old damage still
has a chance to be found at start. A running node moves the record up behind its tip a few blocks
at a time (`check_ahead`, node.ledger.check_ahead), so a start after months of running is no
dearer than one after a day. A damaged store is refused with the height at fault.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import plyvel
from google.protobuf.message import DecodeError as ProtobufDecodeError

from election.state_keys import META_APP_HASH
from node.ledger.chain_check import SPOT_CHECKS as SPOT_CHECKS
from node.ledger.chain_check import ChainCheck, StartCheck
from node.ledger.layout import (
    APP_HASH_AT,
    BLOCK,
    CERT,
    EVIDENCE,
    FORMAT,
    META_CHECKED,
    META_CLEARED,
    META_FORMAT,
    META_GENESIS,
    META_HEIGHT,
    META_LAST_SIGNED,
    META_WATCH,
    RESULTS,
    TX_INDEX,
    TX_LOCATION,
    TxLocation,
    evidence_key,
    height_key,
)
from node.ledger.snapshot import StoreSnapshot
from node.ledger.state import (
    STATE,
    StateRecords,
    UncheckedRecords,
    put_writes,
    split_record,
    stored_value,
)
from node.ledger.tip import Tip as Tip
from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.blocks import GENESIS_RESULTS_ROOT, results_root
from votestore.encoding import block_id, canonical, tx_hash
from votestore.errors import ConfigError, StoreCorrupted
from votestore.genesis import Genesis

MAX_PENDING_EVIDENCE: Final = 256


def _parse(message: Any, raw: bytes | None, height: int, what: str) -> Any:
    if raw is None:
        raise StoreCorrupted(height, f"{what} record missing")
    try:
        message.ParseFromString(raw)
    except ProtobufDecodeError:
        raise StoreCorrupted(height, f"{what} record does not decode") from None
    return message


class Store:
    """One node's ledger. Not thread-safe: the node's event loop is its only writer."""

    def __init__(self, path: Path, genesis: Genesis, genesis_app_hash: bytes) -> None:
        try:
            self._db = plyvel.DB(str(path), create_if_missing=True, paranoid_checks=True)
        except plyvel.IOError as exc:
            if "lock" in str(exc).lower():  # LevelDB's LOCK file: flock held by another process
                raise ConfigError(
                    f"store {path} is in use by another process: one node per data dir"
                    " (held by a running node?)"
                ) from None
            raise ConfigError(f"cannot open store {path}: {exc}") from None
        except plyvel.CorruptionError as exc:
            raise StoreCorrupted(0, f"LevelDB reports corruption: {exc}") from None
        self._genesis = genesis
        self._genesis_app_hash = genesis_app_hash
        self._records = StateRecords(self._db, self)
        recorded = self._db.get(META_GENESIS)
        if recorded is None:
            self._db.put(META_GENESIS, genesis.hash(), sync=True)
        elif recorded != genesis.hash():
            self._db.close()
            raise ConfigError(f"store {path} belongs to another genesis (hash {recorded.hex()[:16]}…)")
        raw_height = self._db.get(META_HEIGHT)
        self._height = 0 if raw_height is None else struct.unpack(">Q", raw_height)[0]
        stored_format = self._db.get(META_FORMAT)
        if stored_format is None and self._height == 0:
            self._db.put(META_FORMAT, FORMAT, sync=True)
        elif stored_format != FORMAT:
            self._db.close()
            raise ConfigError(
                f"store {path} was written by an older votestore (no per-record state check):"
                " move it aside and start on an empty data dir to re-sync from peers (docs/admin.md)"
            )
        self._tip = self.genesis_tip() if self._height == 0 else self._load_tip()

    def close(self) -> None:
        self._db.close()

    @property
    def height(self) -> int:
        return self._height

    @property
    def tip(self) -> Tip:
        return self._tip

    def app_reader(self) -> StateRecords:
        """Committed application state, each record checked as it is read (node.ledger.state)."""
        return self._records

    def unchecked_state(self) -> UncheckedRecords:
        """Application state as stored, nothing checked (`ledger export --data-dir`)."""
        return UncheckedRecords(self._db)

    def state_items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every application-state record (key, value) as stored, unchecked, in key order."""
        for key, raw in self.raw_items(STATE):
            yield key[len(STATE) :], stored_value(raw)

    def _load_tip(self) -> Tip:
        return self.tip_at(self._height)

    def tip_at(self, height: int) -> Tip:
        """What the block after `height` must link to, read from the stored records (unchecked)."""
        if height == 0:
            return self.genesis_tip()
        block = self.block(height)
        return Tip(
            height,
            block_id(block.header),
            block.header.time_ms,
            self.app_hash_at(height),
            results_root(self.results(height)),
        )

    def app_hash_at(self, height: int) -> bytes:
        app_hash: bytes | None = self._db.get(APP_HASH_AT + height_key(height))
        if app_hash is None:
            raise StoreCorrupted(height, "app hash record missing")
        return app_hash

    # ------------------------------------------------------------------ reads

    def block(self, height: int) -> ledger_pb2.Block:
        block: ledger_pb2.Block = _parse(
            ledger_pb2.Block(), self._db.get(BLOCK + height_key(height)), height, "block"
        )
        return block

    def certificate(self, height: int) -> ledger_pb2.CommitCertificate:
        raw = self._db.get(CERT + height_key(height))
        cert: ledger_pb2.CommitCertificate = _parse(
            ledger_pb2.CommitCertificate(), raw, height, "certificate"
        )
        return cert

    def results(self, height: int) -> list[election_pb2.TxResult]:
        raw = self._db.get(RESULTS + height_key(height))
        record = _parse(ledger_pb2.CommittedBlock(), raw, height, "results")
        return list(record.results)

    def committed_block(self, height: int) -> ledger_pb2.CommittedBlock:
        return ledger_pb2.CommittedBlock(
            block=self.block(height), certificate=self.certificate(height), results=self.results(height)
        )

    def locate(self, hash_: bytes) -> TxLocation | None:
        raw = self._db.get(TX_INDEX + hash_)
        if raw is None:
            return None
        if len(raw) != TX_LOCATION.size:
            raise StoreCorrupted(
                0, f"the transaction index entry for {hash_.hex()[:16]} is {len(raw)} bytes, not 12"
            )
        height, index = TX_LOCATION.unpack(raw)
        if not 1 <= height <= self._height:
            raise StoreCorrupted(
                self._height, f"the transaction index entry for {hash_.hex()[:16]} names height {height}"
            )
        return TxLocation(height, index)

    # ------------------------------------------------------------------ writes

    def commit_block(
        self,
        block: ledger_pb2.Block,
        certificate: ledger_pb2.CommitCertificate,
        results: Sequence[election_pb2.TxResult],
        app_hash: bytes,
        app_writes: Mapping[bytes, bytes | None],
        hashes: Sequence[bytes] | None = None,
    ) -> Tip:
        """Write everything a committed block changes in one synced batch. `hashes`: the
        transactions' hashes in order, if the caller has them."""
        height = block.header.height
        assert height == self._height + 1, (height, self._height)
        assert len(results) == len(block.txs)
        if hashes is None:
            hashes = [tx_hash(raw) for raw in block.txs]
        assert len(hashes) == len(block.txs), (len(hashes), len(block.txs))
        with self._db.write_batch(sync=True, transaction=True) as batch:
            key = height_key(height)
            batch.put(BLOCK + key, canonical(block))
            batch.put(CERT + key, canonical(certificate))
            batch.put(RESULTS + key, canonical(ledger_pb2.CommittedBlock(results=results)))
            batch.put(APP_HASH_AT + key, app_hash)
            for index, digest in enumerate(hashes):
                batch.put(TX_INDEX + digest, TX_LOCATION.pack(height, index))
            for evidence in block.evidence:
                batch.delete(EVIDENCE + evidence_key(evidence))
            put_writes(batch, height, app_writes)
            batch.put(META_HEIGHT, key)
        self._height = height
        self._records.verified(height)
        self._tip = Tip(height, block_id(block.header), block.header.time_ms, app_hash, results_root(results))
        return self._tip

    def save_last_signed(self, record: bytes) -> None:
        """Persist before the signed message leaves (never double-sign across crashes)."""
        self._db.put(META_LAST_SIGNED, record, sync=True)

    def mark_watch_before_signing(self) -> None:
        """The last-signed record here cannot be trusted (a restored backup, say): the node
        watches before it signs again (node/amnesia.py) and clears the mark once it signs."""
        self._db.put(META_WATCH, b"1", sync=True)

    def watch_before_signing(self) -> bool:
        return self._db.get(META_WATCH) is not None

    def mark_cleared_to_sign(self) -> None:
        """The amnesia guard let this validator sign: the watch mark goes, and the store records
        that this data dir was cleared to sign, so a restart of it signs at once even if it had
        signed nothing yet (only a lost store, or a restored one, watches again)."""
        with self._db.write_batch(sync=True) as batch:
            batch.delete(META_WATCH)
            batch.put(META_CLEARED, b"1")

    def cleared_to_sign(self) -> bool:
        return self._db.get(META_CLEARED) is not None

    @contextmanager
    def snapshot(self) -> Iterator[StoreSnapshot]:
        """The whole store as of one instant (a LevelDB snapshot), for a backup: its height,
        last-signed record and records agree with each other even while this process goes on
        writing. Take it on the thread that writes (the node's loop), so no batch is half in."""
        with self._db.snapshot() as snapshot:
            yield StoreSnapshot(snapshot)

    def last_signed(self) -> bytes | None:
        value: bytes | None = self._db.get(META_LAST_SIGNED)
        return value

    def add_evidence(self, evidence: ledger_pb2.Evidence) -> bool:
        """Keep evidence until a block carries it; False if already kept or the bound is reached."""
        key = EVIDENCE + evidence_key(evidence)
        if self._db.get(key) is not None or len(self.pending_evidence()) >= MAX_PENDING_EVIDENCE:
            return False
        self._db.put(key, canonical(evidence), sync=True)
        return True

    def drop_evidence(self, evidence: ledger_pb2.Evidence) -> None:
        """Forget kept evidence a block committed in another form, or that left the window."""
        self._db.delete(EVIDENCE + evidence_key(evidence), sync=True)

    def pending_evidence(self) -> list[ledger_pb2.Evidence]:
        found = []
        for _, raw in self._db.iterator(prefix=EVIDENCE):
            evidence: ledger_pb2.Evidence = _parse(
                ledger_pb2.Evidence(), raw, self._height, "pending evidence"
            )
            found.append(evidence)
        return found

    # ------------------------------------------------------------------ checks (chain_check.py)

    def check_chain(self) -> Iterator[int]:
        return ChainCheck(self).check_chain()

    def check_whole(self) -> int:
        return ChainCheck(self).check_whole()

    def record_checked(self) -> None:
        """Record the tip as checked (after a clean offline walk, node.ledger.walk)."""
        ChainCheck(self).record_tip()

    def check_start(self, spot_checks: int = SPOT_CHECKS, rng: random.Random | None = None) -> StartCheck:
        return ChainCheck(self).check_start(spot_checks, rng)

    def check_ahead(self, max_blocks: int) -> int:
        return ChainCheck(self).check_ahead(max_blocks)

    @property
    def checked_height(self) -> int:
        return ChainCheck(self).checked_height

    # ------------------------------------------------------------------ records the checks keep

    @property
    def genesis(self) -> Genesis:
        return self._genesis

    def genesis_tip(self) -> Tip:
        return Tip(0, b"", self._genesis.genesis_time_ms, self._genesis_app_hash, GENESIS_RESULTS_ROOT)

    def app_state_hash(self) -> bytes | None:
        """The app hash the application state itself records (what the tip's must equal)."""
        raw: bytes | None = self._db.get(STATE + META_APP_HASH)
        return None if raw is None else split_record(META_APP_HASH, raw)[1]

    def raw_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) under `prefix`, unchecked, in key order (the offline walk)."""
        for key, value in self._db.iterator(prefix=prefix):
            yield bytes(key), bytes(value)

    def check_record(self) -> bytes | None:
        value: bytes | None = self._db.get(META_CHECKED)
        return value

    def put_check_record(self, record: bytes, *, sync: bool) -> None:
        self._db.put(META_CHECKED, record, sync=sync)
