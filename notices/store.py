"""The durable notice queue: one SQLite file in WAL mode.

Why SQLite (stdlib sqlite3) rather than LevelDB (plyvel, which the node uses): the queue needs
multi-row transactions (claim a batch: queued -> sending, attempts + 1, in one commit), secondary
lookups (by state, by next attempt time, by provider message id) and counts by state and reason
for the summary; LevelDB would make us build those indexes by hand. WAL lets `votestore notices
summary` read while a sender writes, and `synchronous=FULL` makes each commit durable before the
send it announces, which is what "at least once" rests on: a row is marked `sending` and committed
before the message leaves; a crash leaves it `sending`, and `recover()` queues it again.

What is stored: the recipient's address and channel in clear (a sender needs them), the message
sealed (notices.sealed), the idempotency key, the state and its reason. No passphrase, no data key
in clear, no link in clear.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notices.model import Channel, Notice, State
from notices.sealed import MessageBox, new_sealed_data_key, open_data_key
from votestore.crypto.sealing import MODERATE, Argon2Limits
from votestore.errors import ConfigError

SCHEMA_VERSION: Final = 1
MAX_CLAIM: Final = 1024
"""Rows taken from the queue in one claim."""
MAX_REASON_CHARS: Final = 120

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (
  id TEXT PRIMARY KEY, election TEXT NOT NULL, kind TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
  id INTEGER PRIMARY KEY,
  campaign TEXT NOT NULL REFERENCES campaigns(id),
  voter_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  sealed BLOB NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  provider_id TEXT NOT NULL DEFAULT '',
  updated REAL NOT NULL,
  UNIQUE (campaign, voter_id, channel));
CREATE INDEX IF NOT EXISTS notices_state ON notices (state, next_at);
CREATE INDEX IF NOT EXISTS notices_provider ON notices (provider_id);
CREATE TABLE IF NOT EXISTS opt_outs (voter_id TEXT PRIMARY KEY, at REAL NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Planned:
    """A message to queue: sealed by the store on the way in."""

    voter_id: str
    channel: Channel
    address: str
    idem_key: str
    plain: bytes


@dataclass(frozen=True, slots=True)
class Summary:
    by_state: dict[str, int]
    failed_by_reason: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        get = self.by_state.get
        return {
            "sent": get(State.SENT, 0) + get(State.DELIVERED, 0),
            "delivered": get(State.DELIVERED, 0),
            "awaiting_report": get(State.SENT, 0),
            "failed": get(State.FAILED, 0),
            "failed_by_reason": dict(sorted(self.failed_by_reason.items())),
            "opted_out": get(State.OPTED_OUT, 0),
            "pending": get(State.QUEUED, 0) + get(State.SENDING, 0),
            "total": sum(self.by_state.values()),
        }


class NoticeStore:
    """`NoticeStore.open(path, passphrase)`; one process writes at a time (the sender), others
    may read. All methods are synchronous and short; the asyncio sender calls them from its loop."""

    def __init__(self, db: sqlite3.Connection, box: MessageBox) -> None:
        self._db = db
        self.box = box

    @classmethod
    def open(
        cls, path: Path, passphrase: str, *, create: bool = False, limits: Argon2Limits = MODERATE
    ) -> NoticeStore:
        if not passphrase:
            raise ConfigError("the notice store needs a passphrase (VOTESTORE_NOTICES_PASSPHRASE)")
        if not create and not path.exists():
            raise ConfigError(f"notice store {path} does not exist (create it with `notices plan`)")
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        path.chmod(0o600)
        db.executescript(_SCHEMA)
        with _tx(db):
            row = db.execute("SELECT value FROM meta WHERE name='data_key'").fetchone()
            if row is None:
                key, blob = new_sealed_data_key(passphrase, limits)
                db.execute("INSERT INTO meta VALUES ('data_key', ?), ('schema', ?)", (blob, SCHEMA_VERSION))
            else:
                key = open_data_key(bytes(row[0]), passphrase)
        return cls(db, MessageBox(key))

    def close(self) -> None:
        self._db.close()

    def add_campaign(self, campaign: str, election_id: str, kind: str) -> None:
        with _tx(self._db):
            row = self._db.execute("SELECT election, kind FROM campaigns WHERE id=?", (campaign,)).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO campaigns VALUES (?, ?, ?, ?)", (campaign, election_id, kind, time.time())
                )
            elif tuple(row) != (election_id, kind):
                raise ConfigError(f"campaign {campaign} exists for {row[0]}/{row[1]}")

    def enqueue(self, campaign: str, planned: Iterable[Planned]) -> tuple[int, int]:
        """Queue messages; a (campaign, voter, channel) already queued is left as it is (planning
        twice sends once). Voters who opted out are recorded as opted-out. Returns the rows added
        (queued, opted-out)."""
        now = time.time()
        added = [0, 0]
        with _tx(self._db):
            opted = {r[0] for r in self._db.execute("SELECT voter_id FROM opt_outs")}
            for p in planned:
                state = State.OPTED_OUT if p.voter_id in opted else State.QUEUED
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO notices (campaign, voter_id, channel, address, idem_key, "
                    "sealed, state, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        campaign,
                        p.voter_id,
                        p.channel.value,
                        p.address,
                        p.idem_key,
                        self.box.seal(p.plain),
                        state.value,
                        now,
                    ),
                )
                added[state is State.OPTED_OUT] += cur.rowcount
        return added[0], added[1]

    def opt_out(self, voter_id: str) -> int:
        """Stop every notice not yet sent to this voter, now and in later campaigns."""
        with _tx(self._db):
            self._db.execute("INSERT OR IGNORE INTO opt_outs VALUES (?, ?)", (voter_id, time.time()))
            cur = self._db.execute(
                "UPDATE notices SET state=?, updated=? WHERE voter_id=? AND state=?",
                (State.OPTED_OUT.value, time.time(), voter_id, State.QUEUED.value),
            )
        return cur.rowcount

    def recover(self) -> int:
        """Queue again what a crash left `sending` (it may or may not have left): the number of
        notices in flight at the crash, each of which may now be sent a second time."""
        with _tx(self._db):
            cur = self._db.execute(
                "UPDATE notices SET state=?, next_at=0, updated=? WHERE state=?",
                (State.QUEUED.value, time.time(), State.SENDING.value),
            )
        return cur.rowcount

    def claim(self, limit: int, now: float) -> list[Notice]:
        """Take up to `limit` due queued notices and mark them `sending` in one commit."""
        assert 0 < limit <= MAX_CLAIM
        with _tx(self._db):
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM notices WHERE state=? AND next_at<=? "
                "AND voter_id NOT IN (SELECT voter_id FROM opt_outs) ORDER BY id LIMIT ?",
                (State.QUEUED.value, now, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE notices SET state=?, attempts=attempts+1, updated=? WHERE id=?",
                [(State.SENDING.value, now, r[0]) for r in rows],
            )
        return [_notice(r, State.SENDING, 1) for r in rows]

    def next_due(self) -> float | None:
        """When the earliest queued notice is due (None if none is queued)."""
        row = self._db.execute(
            "SELECT MIN(next_at) FROM notices WHERE state=? "
            "AND voter_id NOT IN (SELECT voter_id FROM opt_outs)",
            (State.QUEUED.value,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def mark_sent(self, row_id: int, provider_id: str, *, delivered: bool) -> None:
        state = State.DELIVERED if delivered else State.SENT
        self._set(row_id, state, "", provider_id=provider_id)

    def mark_retry(self, row_id: int, reason: str, next_at: float) -> None:
        with _tx(self._db):
            self._db.execute(
                "UPDATE notices SET state=?, reason=?, next_at=?, updated=? WHERE id=?",
                (State.QUEUED.value, reason[:MAX_REASON_CHARS], next_at, time.time(), row_id),
            )

    def mark_failed(self, row_id: int, reason: str) -> None:
        self._set(row_id, State.FAILED, reason)

    def mark_report(self, provider_id: str, delivered: bool, reason: str = "") -> int:
        """A delivery report for a sent notice; reports for unknown ids or finished rows change
        nothing (providers repeat reports). Returns rows changed."""
        state = State.DELIVERED if delivered else State.FAILED
        with _tx(self._db):
            cur = self._db.execute(
                "UPDATE notices SET state=?, reason=?, updated=? WHERE provider_id=? AND state=?",
                (state.value, reason[:MAX_REASON_CHARS], time.time(), provider_id, State.SENT.value),
            )
        return cur.rowcount

    def awaiting_report(self, channel: Channel, limit: int) -> list[Notice]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM notices WHERE state=? AND channel=? AND provider_id!='' "
            "ORDER BY updated LIMIT ?",
            (State.SENT.value, channel.value, limit),
        ).fetchall()
        return [_notice(r, State.SENT, 0) for r in rows]

    def summary(self, campaign: str | None = None) -> Summary:
        where, args = ("WHERE campaign=?", (campaign,)) if campaign else ("", ())
        by_state = {
            str(s): int(n)
            for s, n in self._db.execute(f"SELECT state, COUNT(*) FROM notices {where} GROUP BY state", args)
        }
        extra = " AND campaign=?" if campaign else ""
        reasons = {
            str(r): int(n)
            for r, n in self._db.execute(
                f"SELECT reason, COUNT(*) FROM notices WHERE state=?{extra} GROUP BY reason",
                (State.FAILED.value, *args),
            )
        }
        return Summary(by_state, reasons)

    def in_state(self, state: State) -> list[Notice]:
        """Every notice in a state (tests and the demo read these)."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM notices WHERE state=? ORDER BY id", (state.value,)
        ).fetchall()
        return [_notice(r, state, 0) for r in rows]

    def _set(self, row_id: int, state: State, reason: str, *, provider_id: str = "") -> None:
        with _tx(self._db):
            self._db.execute(
                "UPDATE notices SET state=?, reason=?, provider_id=COALESCE(NULLIF(?, ''), provider_id), "
                "updated=? WHERE id=?",
                (state.value, reason[:MAX_REASON_CHARS], provider_id, time.time(), row_id),
            )


_COLUMNS: Final = "id, campaign, voter_id, channel, address, idem_key, sealed, attempts, provider_id"


def _notice(row: tuple[object, ...], state: State, attempts_added: int) -> Notice:
    row_id, campaign, voter_id, channel, address, key, sealed, attempts, provider_id = row
    return Notice(
        int(row_id),  # type: ignore[call-overload]
        str(campaign),
        str(voter_id),
        Channel(str(channel)),
        str(address),
        str(key),
        bytes(sealed),  # type: ignore[call-overload]
        state,
        int(attempts) + attempts_added,  # type: ignore[call-overload]
        str(provider_id),
    )


@contextmanager
def _tx(db: sqlite3.Connection) -> Iterator[None]:
    """One IMMEDIATE transaction (the write lock taken at BEGIN, so two writers never deadlock)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
