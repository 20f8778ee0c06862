"""The one adapter onto `votestore roll import`'s outbox and the contacts file.

`roll.csv` (ops/cli/roll.py `write_outbox`) has a header; we read columns by name, so columns the
credential authority's tooling adds later are ignored, and a renamed one is a one-line change here.
Contacts come separately (the roll holds no phone or mail): a CSV `voter_id, phone, email[, lang]`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notices.templates import LANGUAGES
from votestore.errors import ConfigError

ROLL_FILE: Final = "roll.csv"
ROLL_COLUMNS: Final = {"voter_id": "voter_id", "credential_key": "credential_key", "link": "link"}
"""Our name -> the outbox's column name."""
CONTACT_COLUMNS: Final = ("voter_id", "phone", "email")
MAX_CSV_BYTES: Final = 512 * 1024 * 1024
DEFAULT_LANG: Final = "ko"


@dataclass(frozen=True, slots=True)
class RollEntry:
    voter_id: str
    credential_key: bytes
    link: str

    def __repr__(self) -> str:
        return f"RollEntry({self.voter_id!r}, <link>)"


@dataclass(frozen=True, slots=True)
class Contact:
    voter_id: str
    phone: str
    email: str
    lang: str


def _rows(path: Path, needed: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ConfigError(f"{path} exceeds {MAX_CSV_BYTES} bytes")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in needed if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(f"{path}: header lacks column(s) {', '.join(missing)}")
            return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None


def read_outbox(outbox: Path) -> list[RollEntry]:
    path = outbox / ROLL_FILE
    entries = []
    for line, row in _rows(path, tuple(ROLL_COLUMNS.values())):
        try:
            key = bytes.fromhex(row[ROLL_COLUMNS["credential_key"]])
        except ValueError:
            raise ConfigError(f"{path}:{line}: credential_key is not hex") from None
        entries.append(RollEntry(row[ROLL_COLUMNS["voter_id"]], key, row[ROLL_COLUMNS["link"]]))
    return entries


def read_contacts(path: Path) -> dict[str, Contact]:
    contacts: dict[str, Contact] = {}
    for line, row in _rows(path, CONTACT_COLUMNS):
        lang = row.get("lang") or DEFAULT_LANG
        if lang not in LANGUAGES:
            raise ConfigError(f"{path}:{line}: lang {lang!r} not one of {', '.join(LANGUAGES)}")
        voter = row["voter_id"]
        if voter in contacts:
            raise ConfigError(f"{path}:{line}: voter {voter!r} appears twice")
        contacts[voter] = Contact(voter, row["phone"], row["email"], lang)
    return contacts
