"""A validator's store in one file (`votestore node backup`, and a running node on request): one
LevelDB snapshot's records and a manifest of what they hold, so that a restore (ops/store_backup.py)
can check the file and compare its last-signed record with the one it would replace.

The file is a tar: `manifest.json` (chain id, genesis hash, height, last-signed
height/round/step, record count, sha256 of the records) and `store.records` (every key and value,
length-prefixed). Height, last-signed record and records all come from the same snapshot, so they
agree even when the node went on committing while the file was written. The file appears whole
or not at all (written beside it, then renamed), and never over an existing file.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from node.consensus import LastSigned
from node.ledger.snapshot import StoreSnapshot
from node.wire import decode_last_signed
from votestore import version as build
from votestore.errors import ConfigError
from votestore.genesis import Genesis

FORMAT: Final = "votestore-node-backup/1"
MANIFEST: Final = "manifest.json"
RECORDS: Final = "store.records"
RECORD_LENGTHS: Final = struct.Struct(">II")  # key length, value length; then the key, then the value
MAX_RECORD_BYTES: Final = 1 << 30
"""A key or value longer than this in a backup is damage, not data (blocks are capped far below)."""


@dataclass(frozen=True, slots=True)
class Signed:
    """The (height, round, step) of a last-signed record: the order every signature follows."""

    height: int
    round: int
    step: int

    @classmethod
    def of(cls, record: LastSigned | None) -> Signed | None:
        return None if record is None else cls(record.height, record.round, int(record.step))

    def key(self) -> tuple[int, int, int]:
        return (self.height, self.round, self.step)

    def __str__(self) -> str:
        return f"height {self.height} round {self.round} step {self.step}"


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    chain_id: str
    genesis_hash: str
    height: int
    last_signed: Signed | None
    records: int
    sha256: str
    created_utc: str
    version: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, raw: bytes, source: Path) -> Manifest:
        try:
            data = json.loads(raw)
            signed = data["last_signed"]
            manifest = cls(
                format=str(data["format"]),
                chain_id=str(data["chain_id"]),
                genesis_hash=str(data["genesis_hash"]),
                height=int(data["height"]),
                last_signed=None
                if signed is None
                else Signed(**{k: int(signed[k]) for k in ("height", "round", "step")}),
                records=int(data["records"]),
                sha256=str(data["sha256"]),
                created_utc=str(data["created_utc"]),
                version=str(data["version"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{source}: not a votestore node backup (manifest: {exc})") from None
        if manifest.format != FORMAT:
            raise ConfigError(f"{source}: backup format {manifest.format!r}, this votestore reads {FORMAT!r}")
        return manifest


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_backup(snapshot: StoreSnapshot, genesis: Genesis, out: Path) -> Manifest:
    """Write `snapshot` to `out`; ConfigError if `out` exists. Reads only the snapshot, so it may
    run on a thread of its own while the node's loop goes on writing to the store."""
    if out.exists():
        raise ConfigError(f"{out} exists: a backup is never written over another file")
    partial = out.with_name(out.name + ".partial")
    records_path = out.with_name(out.name + ".records.partial")
    try:
        digest = hashlib.sha256()
        count = 0
        with records_path.open("wb") as sink:
            for key, value in snapshot.records():
                chunk = RECORD_LENGTHS.pack(len(key), len(value)) + key + value
                digest.update(chunk)
                sink.write(chunk)
                count += 1
        height, raw_signed = snapshot.height, snapshot.last_signed()
        manifest = Manifest(
            format=FORMAT,
            chain_id=genesis.chain_id,
            genesis_hash=genesis.hash().hex(),
            height=height,
            last_signed=Signed.of(None if raw_signed is None else decode_last_signed(raw_signed, height)),
            records=count,
            sha256=digest.hexdigest(),
            created_utc=_utc_now(),
            version=build.describe(),
        )
        with tarfile.open(partial, "w") as tar:
            raw = manifest.to_json().encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(raw)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(raw))
            tar.add(records_path, arcname=RECORDS)
        partial.rename(out)
    finally:
        records_path.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return manifest
