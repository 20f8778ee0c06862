"""The damage marker: once a node finds its store damaged (at start, serving, executing a block or
checking behind its tip) it writes a file beside the store's own saying what and where, then
stops. Every later start refuses at once with the same message and what to do — one clear
refusal, never a crash loop on a store that a half-check would pass. Nothing clears it silently:
`votestore node check --clear-damage` removes it only after the whole store checks clean, and a
store restored from a backup or re-synced into an empty data dir has no marker.

The marker is a file, not a LevelDB record, so it can be written and read when LevelDB itself is
what failed; LevelDB leaves files whose names it does not use alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

from votestore.errors import StoreCorrupted

MARKER: Final = "VOTESTORE-DAMAGED"


def advice(data_dir: Path) -> str:
    """What an operator does about a damaged store (docs/admin.md, "When a check fails")."""
    return (
        f"this store is marked damaged ({data_dir / MARKER}): keep it aside, then restore the data dir"
        " from a backup or start on an empty data dir to re-sync from peers (docs/admin.md); after a"
        " repair in place, `votestore node check --clear-damage` removes the mark once the store checks clean"
    )


def mark(data_dir: Path, exc: StoreCorrupted, found: str) -> None:
    """Record the damage (the first found is kept: it names where the trouble began)."""
    path = data_dir / MARKER
    if path.exists() or not data_dir.is_dir():
        return
    body = json.dumps({"height": exc.height, "why": exc.why, "found": found}, sort_keys=True) + "\n"
    partial = path.with_name(MARKER + ".partial")
    with partial.open("w") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    directory = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def marked(data_dir: Path) -> StoreCorrupted | None:
    """The recorded damage, if the store is marked (a marker that does not parse still marks it)."""
    path = data_dir / MARKER
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
        return StoreCorrupted(int(record["height"]), f"{record['why']} (found {record['found']})")
    except (ValueError, KeyError, TypeError):
        return StoreCorrupted(0, f"damage marker {path} does not parse")


def refused(data_dir: Path, exc: StoreCorrupted) -> StoreCorrupted:
    """The error a marked store's start stops with: the damage, and what to do."""
    return StoreCorrupted(exc.height, f"{exc.why}; {advice(data_dir)}")


def clear(data_dir: Path) -> bool:
    """Remove the marker (only after a clean whole-store check); True if there was one."""
    try:
        (data_dir / MARKER).unlink()
    except FileNotFoundError:
        return False
    return True
