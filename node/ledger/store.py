"""The node's LevelDB: blocks, certificates, results, the transaction index, application state and
the consensus last-signed record, each under its own key prefix.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import plyvel
from google.protobuf.message import DecodeError as ProtobufDecodeError

from election.state_keys import META_APP_HASH
from proto.votestore.v1 import election_pb2, ledger_pb2
from votestore.blocks import GENESIS_RESULTS_ROOT, BlockInvalid, check_block, results_root
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id, canonical, tx_hash
from votestore.errors import ConfigError, StoreCorrupted
from votestore.genesis import Genesis

APP_PREFIX: Final = b"a/"
_BLOCK: Final = b"b/"
_CERT: Final = b"c/"
_RESULTS: Final = b"r/"
_APP_HASH_AT: Final = b"h/"
_TX_INDEX: Final = b"t/"
_TX_LOCATION: Final = struct.Struct(">QI")  # (height, position in the block)
_EVIDENCE: Final = b"e/"
_META_HEIGHT: Final = b"k/height"
_META_GENESIS: Final = b"k/genesis"
_META_LAST_SIGNED: Final = b"k/last_signed"
_META_CHECKED: Final = b"k/checked"
"""Height (8 bytes, big-endian) and block id the last successful check of the chain reached."""
SPOT_CHECKS: Final = 64
"""Older heights the start-up check re-checks, drawn afresh at each start (a fixed cost)."""
MAX_PENDING_EVIDENCE: Final = 256


def _h(height: int) -> bytes:
    return struct.pack(">Q", height)


@dataclass(frozen=True, slots=True)
class TxLocation:
    height: int
    index: int


@dataclass(frozen=True, slots=True)
class Tip:
    """What the next block must link to."""

    height: int
    block_id: bytes
    time_ms: int
    app_hash: bytes
    results_hash: bytes


def check_child(genesis: Genesis, parent: Tip, block: ledger_pb2.Block) -> bytes:
    """Check `block` as the one after `parent` (votestore.blocks.check_block); return its id."""
    return check_block(
        genesis.chain_id,
        block,
        height=parent.height + 1,
        prev_block_id=parent.block_id,
        prev_time_ms=parent.time_ms,
        app_hash=parent.app_hash,
        results_hash=parent.results_hash,
        validator_count=genesis.n,
    )


class AppStateReader:
    """The application's view of committed state: the app prefix of the store."""

    __slots__ = ("_db",)

    def __init__(self, db: Any) -> None:
        self._db = db

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key)
        return value


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
        self._app = self._db.prefixed_db(APP_PREFIX)
        recorded = self._db.get(_META_GENESIS)
        if recorded is None:
            self._db.put(_META_GENESIS, genesis.hash(), sync=True)
        elif recorded != genesis.hash():
            self._db.close()
            raise ConfigError(f"store {path} belongs to another genesis (hash {recorded.hex()[:16]}…)")
        raw_height = self._db.get(_META_HEIGHT)
        self._height = 0 if raw_height is None else struct.unpack(">Q", raw_height)[0]
        self._tip = self._genesis_tip() if self._height == 0 else self._load_tip()

    def close(self) -> None:
        self._db.close()

    @property
    def height(self) -> int:
        return self._height

    @property
    def tip(self) -> Tip:
        return self._tip

    def app_reader(self) -> AppStateReader:
        return AppStateReader(self._app)

    def _genesis_tip(self) -> Tip:
        return Tip(0, b"", self._genesis.genesis_time_ms, self._genesis_app_hash, GENESIS_RESULTS_ROOT)

    def _load_tip(self) -> Tip:
        return self._tip_at(self._height)

    def _tip_at(self, height: int) -> Tip:
        """What the block after `height` must link to, read from the stored records (unchecked)."""
        if height == 0:
            return self._genesis_tip()
        block = self.block(height)
        return Tip(
            height,
            block_id(block.header),
            block.header.time_ms,
            self._app_hash_at(height),
            results_root(self.results(height)),
        )

    def _app_hash_at(self, height: int) -> bytes:
        app_hash: bytes | None = self._db.get(_APP_HASH_AT + _h(height))
        if app_hash is None:
            raise StoreCorrupted(height, "app hash record missing")
        return app_hash

    # ------------------------------------------------------------------ reads

    def block(self, height: int) -> ledger_pb2.Block:
        block: ledger_pb2.Block = _parse(
            ledger_pb2.Block(), self._db.get(_BLOCK + _h(height)), height, "block"
        )
        return block

    def certificate(self, height: int) -> ledger_pb2.CommitCertificate:
        raw = self._db.get(_CERT + _h(height))
        cert: ledger_pb2.CommitCertificate = _parse(
            ledger_pb2.CommitCertificate(), raw, height, "certificate"
        )
        return cert

    def results(self, height: int) -> list[election_pb2.TxResult]:
        record = _parse(ledger_pb2.CommittedBlock(), self._db.get(_RESULTS + _h(height)), height, "results")
        return list(record.results)

    def committed_block(self, height: int) -> ledger_pb2.CommittedBlock:
        return ledger_pb2.CommittedBlock(
            block=self.block(height), certificate=self.certificate(height), results=self.results(height)
        )

    def locate(self, hash_: bytes) -> TxLocation | None:
        raw = self._db.get(_TX_INDEX + hash_)
        if raw is None:
            return None
        if len(raw) != _TX_LOCATION.size:
            raise StoreCorrupted(
                0, f"the transaction index entry for {hash_.hex()[:16]} is {len(raw)} bytes, not 12"
            )
        height, index = _TX_LOCATION.unpack(raw)
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
            key = _h(height)
            batch.put(_BLOCK + key, canonical(block))
            batch.put(_CERT + key, canonical(certificate))
            batch.put(_RESULTS + key, canonical(ledger_pb2.CommittedBlock(results=results)))
            batch.put(_APP_HASH_AT + key, app_hash)
            for index, digest in enumerate(hashes):
                batch.put(_TX_INDEX + digest, _TX_LOCATION.pack(height, index))
            for evidence in block.evidence:
                batch.delete(_EVIDENCE + _evidence_key(evidence))
            for app_key, value in app_writes.items():
                if value is None:
                    batch.delete(APP_PREFIX + app_key)
                else:
                    batch.put(APP_PREFIX + app_key, value)
            batch.put(_META_HEIGHT, key)
        self._height = height
        self._tip = Tip(height, block_id(block.header), block.header.time_ms, app_hash, results_root(results))
        return self._tip

    def save_last_signed(self, record: bytes) -> None:
        """Persist before the signed message leaves (never double-sign across crashes)."""
        self._db.put(_META_LAST_SIGNED, record, sync=True)

    def last_signed(self) -> bytes | None:
        value: bytes | None = self._db.get(_META_LAST_SIGNED)
        return value

    def add_evidence(self, evidence: ledger_pb2.Evidence) -> bool:
        """Keep evidence until a block carries it; False if already kept or the bound is reached."""
        key = _EVIDENCE + _evidence_key(evidence)
        if self._db.get(key) is not None or len(self.pending_evidence()) >= MAX_PENDING_EVIDENCE:
            return False
        self._db.put(key, canonical(evidence), sync=True)
        return True

    def pending_evidence(self) -> list[ledger_pb2.Evidence]:
        found = []
        for _, raw in self._db.iterator(prefix=_EVIDENCE):
            evidence = ledger_pb2.Evidence()
            evidence.ParseFromString(raw)
            found.append(evidence)
        return found

    # ------------------------------------------------------------------ checks

    def check_chain(self) -> Iterator[int]:
        """Check every stored block from genesis (links, roots, certificate, results count, app
        hash record) and the application's app hash against the tip; yield each height checked
        (for progress), raise StoreCorrupted naming the first height at fault. Reads only."""
        parent = self._genesis_tip()
        keys = self._genesis.validator_keys()
        for height in range(1, self._height + 1):
            parent = self._check_height(parent, height, keys)
            yield height
        self._check_app_state(parent)

    def check_whole(self) -> int:
        """check_chain, then record the tip as checked (`votestore node check`, and a start
        without a usable record); return the number of blocks checked. Recording lets an
        operator run the long check on a stopped node, without a startupProbe's limit, before
        the first start on a store that has no record yet."""
        checked = sum(1 for _ in self.check_chain())
        self._record_check(self._tip, sync=True)
        return checked

    def check_start(self, spot_checks: int = SPOT_CHECKS, rng: random.Random | None = None) -> StartCheck:
        """The node's start-up check: the heights above the recorded check, the record against
        its block, the tip's app hash, and `spot_checks` older heights against their parents;
        then record the tip as checked. Without a record (a new store, or one from before the
        record existed), or with a record that no longer matches the stored chain, it checks the
        whole chain: the record only saves work, so a record that disagrees is not trusted to
        skip anything, and a store whose blocks all check is not refused for a damaged record."""
        keys = self._genesis.validator_keys()
        checked_to = self._recorded_check()
        if checked_to is None:
            self.check_whole()
            return StartCheck(full=True, above=tuple(range(1, self._height + 1)), spots=())
        above = tuple(range(checked_to + 1, self._height + 1))
        self._check_app_state(self._check_above(checked_to, self._height, keys))
        population = range(1, checked_to + 1)
        spots = tuple(sorted((rng or random.SystemRandom()).sample(population, min(spot_checks, checked_to))))
        for height in spots:
            self._check_height(self._tip_at(height - 1), height, keys)
        self._record_check(self._tip, sync=True)
        return StartCheck(full=False, above=above, spots=spots)

    def check_ahead(self, max_blocks: int) -> int:
        """Check up to `max_blocks` stored blocks above the recorded check and move the record up
        to the last of them; return how many were checked. Does nothing without a record that
        matches the chain (check_start leaves one). Raises StoreCorrupted naming the height at
        fault, the record left below it, so the next start refuses the store."""
        checked_to = self._recorded_check()
        if checked_to is None:
            return 0
        last = min(self._height, checked_to + max_blocks)
        if last > checked_to:
            # Not synced: a record lost in a crash is an older one, which still matches its block.
            self._record_check(
                self._check_above(checked_to, last, self._genesis.validator_keys()), sync=False
            )
        return last - checked_to

    @property
    def checked_height(self) -> int:
        """The height the recorded check reaches (0 without a record that matches the chain)."""
        return self._recorded_check() or 0

    def _recorded_check(self) -> int | None:
        """The height the record names, if the record is well formed, not above the stored tip,
        and names the stored block at its height; else None (check everything)."""
        raw = self._db.get(_META_CHECKED)
        if raw is None or len(raw) != 8 + 32:
            return None
        height = struct.unpack(">Q", raw[:8])[0]
        if height > self._height:
            return None
        if height and block_id(self.block(height).header) != raw[8:]:
            return None
        return int(height)

    def _record_check(self, checked: Tip, *, sync: bool) -> None:
        self._db.put(_META_CHECKED, _h(checked.height) + checked.block_id.ljust(32, b"\0"), sync=sync)

    def _check_above(self, checked_to: int, last: int, keys: Sequence[bytes]) -> Tip:
        """Check heights checked_to+1..last, each against the one before, starting from the
        stored block at `checked_to` (checked before); return the tip at `last`."""
        parent = self._tip_at(checked_to)
        for height in range(checked_to + 1, last + 1):
            parent = self._check_height(parent, height, keys)
        return parent

    def _check_height(self, parent: Tip, height: int, keys: Sequence[bytes]) -> Tip:
        """Check the stored block at `height` as the child of `parent` (links, roots, its
        certificate, its results count, its app hash record); return what its child links to."""
        block = self.block(height)
        try:
            identity = check_child(self._genesis, parent, block)
            verify_certificate(
                self._genesis.chain_id, keys, self.certificate(height), block_id=identity, height=height
            )
        except (BlockInvalid, CertificateInvalid) as exc:
            raise StoreCorrupted(height, str(exc)) from None
        results = self.results(height)
        if len(results) != len(block.txs):
            raise StoreCorrupted(height, f"{len(results)} results for {len(block.txs)} transactions")
        return Tip(height, identity, block.header.time_ms, self._app_hash_at(height), results_root(results))

    def _check_app_state(self, tip: Tip) -> None:
        if self._height and self._app.get(META_APP_HASH) != tip.app_hash:
            raise StoreCorrupted(self._height, "application state's app hash differs from the chain's")


@dataclass(frozen=True, slots=True)
class StartCheck:
    """What a start-up check read: whether it checked the whole chain, the heights above the
    record, and the older heights it spot-checked."""

    full: bool
    above: tuple[int, ...]
    spots: tuple[int, ...]


def _evidence_key(evidence: ledger_pb2.Evidence) -> bytes:
    a = evidence.vote_a
    return struct.pack(">QIBI", a.height, a.round, a.type, a.validator)
