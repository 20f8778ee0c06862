"""The election definition file (TOML) an administrator writes, read into an `ElectionCreate`.

This checks only what the file itself must say (fields present, of the right type, times that
parse); the chain's policy — id syntax, bounds, a window after block time — is the state machine's
to judge, and its refusal comes back with the reason (`BAD_DEFINITION: ...`). See docs/admin.md.

Times are ISO-8601 with a UTC offset (`2026-05-03T08:00:00+02:00`, `...Z`) or relative to now
(`+90s`, `+30m`, `+1h`, `+2d`, `now`): a naive local time is refused, since validators judge the
window by block time in UTC. Durations (the complaint window) are `90s`, `30m`, `1h`, `2d`.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Final

from proto.votestore.v1 import election_pb2
from votestore.errors import ConfigError
from votestore.keys import parse_public_key

MAX_DEFINITION_BYTES: Final = 256 * 1024
_RELATIVE: Final = re.compile(r"^\+(\d{1,9})([smhd])$")
_DURATION: Final = re.compile(r"^(\d{1,9})([smhd])$")
_UNIT_MS: Final = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

Table = dict[str, object]


def parse_time_ms(text: str, now_ms: int) -> int:
    """Unix milliseconds of an ISO-8601 time with offset, `now`, or `+N{s,m,h,d}` after `now_ms`."""
    text = text.strip()
    if text == "now":
        return now_ms
    relative = _RELATIVE.match(text)
    if relative is not None:
        return now_ms + int(relative.group(1)) * _UNIT_MS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"time {text!r}: expected ISO-8601 with offset, 'now' or '+1h'-style") from None
    if moment.tzinfo is None:
        raise ConfigError(f"time {text!r} has no UTC offset (add 'Z' or '+02:00')")
    return round(moment.timestamp() * 1000)


def parse_duration_ms(text: str) -> int:
    """Milliseconds of `N{s,m,h,d}`."""
    duration = _DURATION.match(text.strip())
    if duration is None:
        raise ConfigError(f"duration {text!r}: expected a number and a unit, like '90s', '30m' or '1h'")
    return int(duration.group(1)) * _UNIT_MS[duration.group(2)]


def _get(table: Table, key: str, kind: type, where: str) -> object:
    if key not in table:
        raise ConfigError(f"{where}: '{key}' missing")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def _str(table: Table, key: str, where: str, default: str | None = None) -> str:
    if default is not None and key not in table:
        return default
    value = _get(table, key, str, where)
    assert isinstance(value, str)
    return value


def _int(table: Table, key: str, where: str) -> int:
    value = _get(table, key, int, where)
    assert isinstance(value, int)
    if value < 0:
        raise ConfigError(f"{where}: '{key}' must not be negative")
    return value


def _tables(table: Table, key: str, where: str) -> list[Table]:
    value = _get(table, key, list, where)
    assert isinstance(value, list)
    if not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a list of tables ([[{key}]])")
    return value


def _choice(item: object, where: str) -> election_pb2.Choice:
    """A choice is a bare id (its label is the id) or a table {id, label}."""
    if isinstance(item, str):
        return election_pb2.Choice(id=item, label=item)
    if isinstance(item, dict):
        choice_id = _str(item, "id", where)
        return election_pb2.Choice(id=choice_id, label=_str(item, "label", where, default=choice_id))
    raise ConfigError(f"{where}: a choice is an id or a table {{id, label}}")


def _contest(table: Table, number: int) -> election_pb2.Contest:
    where = f"contest {number}"
    contest_id = _str(table, "id", where)
    where = f"contest {contest_id!r}"
    choices = _get(table, "choices", list, where)
    assert isinstance(choices, list)
    return election_pb2.Contest(
        id=contest_id,
        title=_str(table, "title", where, default=contest_id),
        choices=[_choice(item, where) for item in choices],
        min_selections=_int(table, "min", where),
        max_selections=_int(table, "max", where),
    )


def _trustee(table: Table, number: int) -> election_pb2.Trustee:
    where = f"trustee {number}"
    return election_pb2.Trustee(
        name=_str(table, "name", where),
        sign_key=parse_public_key(_str(table, "sign_key", where), f"{where} sign_key"),
        enc_key=parse_public_key(_str(table, "enc_key", where), f"{where} enc_key"),
    )


def definition_from_toml(document: Table, now_ms: int) -> election_pb2.ElectionCreate:
    where = "definition"
    window = _get(document, "window", dict, where)
    assert isinstance(window, dict)
    keygen = _get(document, "keygen", dict, where)
    assert isinstance(keygen, dict)
    roles = _get(document, "roles", dict, where)
    assert isinstance(roles, dict)
    groups = document.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ConfigError("definition: 'groups' must be a list of strings")
    return election_pb2.ElectionCreate(
        election_id=_str(document, "id", where),
        title=_str(document, "title", where),
        contests=[_contest(t, n) for n, t in enumerate(_tables(document, "contests", where), start=1)],
        window_start_ms=parse_time_ms(_str(window, "start", "window"), now_ms),
        window_end_ms=parse_time_ms(_str(window, "end", "window"), now_ms),
        trustees=[_trustee(t, n) for n, t in enumerate(_tables(document, "trustees", where), start=1)],
        threshold=_int(document, "threshold", where),
        groups=groups,
        deal_deadline_ms=parse_time_ms(_str(keygen, "deal_deadline", "keygen"), now_ms),
        complaint_window_ms=parse_duration_ms(_str(keygen, "complaint_window", "keygen")),
        credential_authority=_role_key(roles, "credential_authority"),
        identity_provider=_role_key(roles, "identity_provider"),
    )


def _role_key(roles: Table, name: str) -> bytes:
    """A [roles] public key: who alone may sign the roll, whose attestation every ballot needs."""
    return parse_public_key(_str(roles, name, "roles"), f"roles {name}")


def read_definition(path: Path, now_ms: int) -> election_pb2.ElectionCreate:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"definition {path}: {exc.strerror}") from None
    if len(raw) > MAX_DEFINITION_BYTES:
        raise ConfigError(f"definition {path} exceeds {MAX_DEFINITION_BYTES} bytes")
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"definition {path}: {exc}") from None
    try:
        return definition_from_toml(document, now_ms)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
