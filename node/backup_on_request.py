"""A running validator's backup, on request: SIGUSR1 makes the node write its store into its
config's `backup_dir`, without stopping (docs/day2.md, *Backup and restore*).

Why a signal: it reaches the node only from its own machine, as its own user (or root) — in
Kubernetes, `kubectl exec` into the pod — so no port has to carry an admin call, and the file
goes only to the directory its config names. What must hold:
- consistency: the snapshot is taken on the node's loop, the one thread that writes the store, so
  no block's batch is half in it; the file is then written from the snapshot on a thread of its
  own, while the loop goes on committing (node/backup_file.py);
- the last-signed rule: the file carries the last-signed record as of the snapshot; the node goes
  on signing after it, so the record is older than the node's own by the time it is restored, and
  `votestore node restore` refuses it unless told to make the node watch before it signs;
- one backup at a time: a request while one runs is refused with a log line; a failure is one
  log line too, never a stop of the node. The node waits for a backup under way before it closes
  its store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from typing import Final

from node.backup_file import write_backup
from node.ledger.store import Store
from votestore.errors import ConfigError
from votestore.genesis import Genesis

log = logging.getLogger("votestore.node.backup")

BACKUP_DIR_MODE: Final = 0o700
BACKUP_SIGNAL: Final = signal.SIGUSR1


def backup_name(height: int) -> str:
    """`node-backup-h<height>-<UTC>.tar`: sorts by height, then time."""
    return f"node-backup-h{height:010d}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar"


class BackupOnRequest:
    """Writes a backup of `store` into `directory` when asked (`request`, from the loop);
    without a directory (no `backup_dir` in the config) a request is refused with a log line."""

    def __init__(self, store: Store, genesis: Genesis, directory: Path | None) -> None:
        self._store = store
        self._genesis = genesis
        self._directory = directory
        self._task: asyncio.Task[None] | None = None

    def request(self) -> None:
        """Start a backup now (the signal handler, on the loop); refused while one runs."""
        if self._directory is None:
            log.warning("event=backup_refused why=no_backup_dir (set backup_dir in the node's config)")
            return
        if self._task is not None and not self._task.done():
            log.warning("event=backup_refused why=another_backup_running")
            return
        self._task = asyncio.ensure_future(self._run())

    async def finished(self) -> None:
        """Wait for a backup under way (before the store is closed)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        assert self._directory is not None
        try:
            self._directory.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
            with self._store.snapshot() as snapshot:  # here, on the loop: between two batches
                out = self._directory / backup_name(snapshot.height)
                log.info("event=backup_started file=%s height=%d", out, snapshot.height)
                manifest = await asyncio.to_thread(write_backup, snapshot, self._genesis, out)
        except (ConfigError, OSError) as exc:
            log.error("event=backup_failed why=%s", str(exc).replace(os.linesep, " "))
            return
        signed = "none" if manifest.last_signed is None else str(manifest.last_signed.height)
        log.info(
            "event=backup_written file=%s height=%d last_signed_height=%s records=%d sha256=%s",
            out,
            manifest.height,
            signed,
            manifest.records,
            manifest.sha256[:16],
        )
