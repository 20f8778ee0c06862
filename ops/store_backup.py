"""`votestore node backup` / `node restore`: a stopped validator's store into one file and back,
without ever handing a validator a last-signed record older than the one it has.

Why the care: the store holds the consensus last-signed record (what the validator signed last,
node/consensus/messages.py `LastSigned`). A node started on a backup whose record is older than
what it really signed may sign again at a height and round it already signed: a double sign. So
`restore` compares the backup's record with the one in the data dir it replaces and refuses an
older one; it restores such a backup only when asked (`watch_before_signing=True`), and then marks
the store (`Store.mark_watch_before_signing`) so the node's amnesia guard (node/amnesia.py)
follows the chain and signs nothing until it has watched the tip without seeing its own key. A
data dir holding no store shows nothing to compare with (a new machine; the old one's record is
lost), so it is refused the same way unless asked.

The backup is consistent: `node backup` takes it from a stopped node (LevelDB's lock refuses a
running one), after the whole-store check (`node check`) passed, from one LevelDB snapshot; a
running node writes its own on SIGUSR1 (node/backup_on_request.py), from one snapshot taken
between two of its writes. Both write the same file (node/backup_file.py). The file is a tar:
`manifest.json` (chain id, genesis hash, height, last-signed height/round/step, record count,
sha256 of the records) and `store.records` (every key and value, length-prefixed). A restore
checks the sha256 and the genesis, writes a new store beside the data dir, runs the whole-store
check on it, and only then swaps it in, keeping the old data dir aside (never deleted here).
"""

from __future__ import annotations

import hashlib
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import plyvel

from election.app_hash import genesis_app_hash
from node.backup_file import (
    MANIFEST,
    MAX_RECORD_BYTES,
    RECORD_LENGTHS,
    RECORDS,
    Manifest,
    Signed,
    write_backup,
)
from node.ledger.store import Store
from node.main import require_clean_store
from node.wire import decode_last_signed
from votestore.errors import ConfigError
from votestore.genesis import Genesis

WRITE_BATCH_RECORDS: Final = 4096


def _last_signed(store: Store) -> Signed | None:
    raw = store.last_signed()
    return Signed.of(None if raw is None else decode_last_signed(raw, store.height))


def _open(data_dir: Path, genesis: Genesis) -> Store:
    return Store(data_dir, genesis, genesis_app_hash(genesis.chain_id))


def backup(data_dir: Path, genesis: Genesis, out: Path) -> Manifest:
    """Write a stopped node's store to `out` (whole or not at all; never over an existing file).
    The whole-store check runs first: a backup of a damaged store would only be found out at the
    restore that needed it. (A running node writes its own: node/backup_file.py.)"""
    if out.exists():
        raise ConfigError(f"{out} exists: a backup is never written over another file")
    require_clean_store(data_dir, genesis)  # no store, a running node's store, damage: one line each
    store = _open(data_dir, genesis)
    try:
        with store.snapshot() as snapshot:
            return write_backup(snapshot, genesis, out)
    finally:
        store.close()


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r:") as tar:
            return Manifest.from_json(_member(tar, MANIFEST, path).read(), path)
    except (OSError, tarfile.TarError) as exc:
        raise ConfigError(f"cannot read backup {path}: {exc}") from None


def _member(tar: tarfile.TarFile, name: str, path: Path) -> IO[bytes]:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise ConfigError(f"{path}: not a votestore node backup (no {name})") from None
    stream = tar.extractfile(member) if member.isfile() else None
    if stream is None:
        raise ConfigError(f"{path}: {name} is not a regular file")
    return stream


def _records(stream: IO[bytes], manifest: Manifest, path: Path) -> Iterator[tuple[bytes, bytes]]:
    """The records, checked against the manifest's count and sha256 as they are read; the last
    check comes after the last record, so the caller must not use what it wrote before then."""
    digest = hashlib.sha256()

    def read(size: int) -> bytes:
        data = stream.read(size)
        if len(data) != size:
            raise ConfigError(f"{path}: the records end early (damaged or cut short)")
        digest.update(data)
        return data

    for _ in range(manifest.records):
        key_len, value_len = RECORD_LENGTHS.unpack(read(RECORD_LENGTHS.size))
        if key_len > MAX_RECORD_BYTES or value_len > MAX_RECORD_BYTES:
            raise ConfigError(f"{path}: a record of {key_len}+{value_len} bytes: damaged")
        yield read(key_len), read(value_len)
    if stream.read(1) or digest.hexdigest() != manifest.sha256:
        raise ConfigError(f"{path}: the records do not match the manifest's sha256 (damaged backup)")


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: Manifest
    replaced: Signed | None
    kept_aside: Path | None
    marked: bool


def _current(data_dir: Path, genesis: Genesis) -> tuple[bool, Signed | None, bool]:
    """Whether `data_dir` holds a store, its last-signed record, and its watch mark."""
    if not (data_dir / "CURRENT").is_file():
        if data_dir.exists() and any(data_dir.iterdir()):
            raise ConfigError(f"{data_dir} holds files but no store: give an empty or absent data dir")
        return False, None, False
    store = _open(data_dir, genesis)  # refuses a running node's store and another chain's
    try:
        return True, _last_signed(store), store.watch_before_signing()
    finally:
        store.close()


def restore(
    path: Path,
    data_dir: Path,
    genesis: Genesis,
    *,
    watch_before_signing: bool,
    progress: Callable[[str], None] = lambda _: None,
) -> Restored:
    """Put the backup at `path` in place of `data_dir`'s store (see the module docstring for what
    is refused and why). The old data dir is kept beside it as `<data dir>.replaced-<UTC time>`."""
    manifest = read_manifest(path)
    if manifest.genesis_hash != genesis.hash().hex():
        raise ConfigError(
            f"{path} is a backup of chain {manifest.chain_id!r} (genesis {manifest.genesis_hash[:16]}…),"
            f" not of this genesis ({genesis.chain_id!r}, {genesis.hash().hex()[:16]}…)"
        )
    has_store, current, was_marked = _current(data_dir, genesis)
    older = current is not None and (
        manifest.last_signed is None or manifest.last_signed.key() < current.key()
    )
    if not watch_before_signing:
        if older:
            raise ConfigError(
                f"refused: the backup's last-signed record ({manifest.last_signed or 'none'}) is older"
                f" than the one in {data_dir} ({current}): a node started on it could sign again what"
                " it already signed (a double sign); keep the data dir, or restore with"
                " --watch-before-signing so the node watches the chain before it signs"
            )
        if not has_store:
            raise ConfigError(
                f"refused: {data_dir} holds no store, so nothing shows the backup's last-signed record"
                " is this validator's latest (a node started on an older one could double-sign);"
                " restore with --watch-before-signing so the node watches the chain before it signs"
            )
    staging = data_dir.with_name(data_dir.name + ".restoring")
    if staging.exists():
        raise ConfigError(f"{staging} exists (an earlier restore stopped part way?): move it away first")
    progress(f"writing {manifest.records} records (height {manifest.height}) to {staging}")
    _write_store(path, manifest, staging)
    require_clean_store(staging, genesis)
    marked = watch_before_signing or was_marked
    if marked:
        store = _open(staging, genesis)
        try:
            store.mark_watch_before_signing()
        finally:
            store.close()
    kept: Path | None = None
    if data_dir.exists():
        kept = data_dir.with_name(
            f"{data_dir.name}.replaced-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        )
        data_dir.rename(kept)
    staging.rename(data_dir)
    return Restored(manifest, current, kept, marked)


def _write_store(path: Path, manifest: Manifest, staging: Path) -> None:
    """The records into a new LevelDB at `staging`; removed again if the backup is damaged."""
    try:
        with tarfile.open(path, "r:") as tar:
            db = plyvel.DB(str(staging), create_if_missing=True, error_if_exists=True)
            try:
                batch = db.write_batch(sync=True)
                for n, (key, value) in enumerate(_records(_member(tar, RECORDS, path), manifest, path), 1):
                    batch.put(key, value)
                    if n % WRITE_BATCH_RECORDS == 0:
                        batch.write()
                        batch = db.write_batch(sync=True)
                batch.write()
            finally:
                db.close()
    except (OSError, tarfile.TarError, plyvel.Error) as exc:
        _remove_store(staging)
        raise ConfigError(f"cannot read backup {path}: {exc}") from None
    except BaseException:
        _remove_store(staging)
        raise


def _remove_store(staging: Path) -> None:
    """Remove the new store this module made at `staging` (its own files only, one level)."""
    if staging.is_dir():
        for child in staging.iterdir():
            child.unlink()
        staging.rmdir()
