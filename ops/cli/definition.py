"""The election definition file (TOML) an administrator writes, read into an `ElectionCreate`.

This checks only what the file itself must say (its shape, `DefinitionFile`, read by the one
typed reader `votestore.config_file`: keys known, present, of the right type; times that parse);
the chain's policy — id syntax, bounds, a window after block time — is the state machine's to
judge, and its refusal comes back with the reason (`BAD_DEFINITION: ...`). See docs/admin.md.

Times are ISO-8601 with a UTC offset (`2026-05-03T08:00:00+02:00`, `...Z`) or relative
(`+90s`, `+30m`, `+1h`, `+2d`, `now`): a naive local time is refused, since validators judge the
window by block time in UTC. A relative window `end` counts from the window's start (so a fixed
start with `end = "+2d"` is a two-day window); a relative `start` or `deal_deadline` counts from
when `election create` runs. Durations (the complaint window) are `90s`, `30m`, `1h`, `2d`.

A window that ends before it starts, or is already over, is refused here in ISO-8601 UTC, before
anything is signed; the chain judges it again (by block time) with the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final

from pydantic import BeforeValidator, StrictStr

from proto.votestore.v1 import election_pb2
from votestore.config_file import NonNegativeInt, parse, read_toml, table
from votestore.errors import ConfigError
from votestore.keys import parse_public_key

MAX_DEFINITION_BYTES: Final = 256 * 1024
SHA256_BYTES: Final = 32
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


def iso_utc(ms: int) -> str:
    """Unix milliseconds as ISO-8601 UTC, for messages a person reads (`2026-05-03T06:00:00Z`)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ms % 1000:03d}Z" if ms % 1000 else f"{text}Z"


def _window(window: WindowFile, now_ms: int) -> tuple[int, int]:
    """The window's (start, end) in ms; a relative end counts from the start."""
    start = parse_time_ms(window.start, now_ms)
    end = parse_time_ms(window.end, start)
    if end <= start:
        raise ConfigError(f"window end {iso_utc(end)} is not after its start {iso_utc(start)}")
    if end <= now_ms:
        raise ConfigError(f"window end {iso_utc(end)} is already past (now {iso_utc(now_ms)})")
    return start, end


def parse_duration_ms(text: str) -> int:
    """Milliseconds of `N{s,m,h,d}`."""
    duration = _DURATION.match(text.strip())
    if duration is None:
        raise ConfigError(f"duration {text!r}: expected a number and a unit, like '90s', '30m' or '1h'")
    return int(duration.group(1)) * _UNIT_MS[duration.group(2)]


def _choice_or_id(item: object) -> object:
    """A choice is a bare id (its label is the id) or a table {id, label}."""
    if isinstance(item, str):
        return {"id": item}
    if not isinstance(item, dict):
        raise ValueError("must be an id or a table {id, label}")
    return item


@table
@dataclass(frozen=True, slots=True)
class ChoiceFile:
    id: StrictStr
    label: StrictStr | None = None


@table
@dataclass(frozen=True, slots=True)
class ContestFile:
    id: StrictStr
    choices: list[Annotated[ChoiceFile, BeforeValidator(_choice_or_id)]]
    min: NonNegativeInt
    max: NonNegativeInt
    title: StrictStr | None = None


@table
@dataclass(frozen=True, slots=True)
class TrusteeFile:
    name: StrictStr
    sign_key: StrictStr
    enc_key: StrictStr


@table
@dataclass(frozen=True, slots=True)
class WindowFile:
    start: StrictStr
    end: StrictStr


@table
@dataclass(frozen=True, slots=True)
class KeygenFile:
    deal_deadline: StrictStr
    complaint_window: StrictStr


@table
@dataclass(frozen=True, slots=True)
class RolesFile:
    """The election's roles (docs/roles.md): public keys, hex."""

    credential_authority: StrictStr
    identity_provider: StrictStr


@table
@dataclass(frozen=True, slots=True)
class DefinitionFile:
    """The definition file's shape (docs/admin.md); unknown keys are refused."""

    id: StrictStr
    title: StrictStr
    contests: list[ContestFile]
    window: WindowFile
    keygen: KeygenFile
    trustees: list[TrusteeFile]
    threshold: NonNegativeInt
    roles: RolesFile
    groups: list[StrictStr] = field(default_factory=list)
    app_bundle_sha256: StrictStr | None = None
    """The voter page's bundle hash (hex SHA-256, as `web/dist/manifest.json` gives it); absent
    for an election cast only through the CLI or the SDK (docs/web.md)."""


def parse_sha256_hex(text: str, where: str) -> bytes:
    """A SHA-256 written as 64 hex digits."""
    try:
        digest = bytes.fromhex(text.strip())
    except ValueError:
        raise ConfigError(f"{where}: not hex") from None
    if len(digest) != SHA256_BYTES:
        raise ConfigError(f"{where}: must be {SHA256_BYTES} bytes (64 hex digits), got {len(digest)}")
    return digest


def _contest(contest: ContestFile) -> election_pb2.Contest:
    return election_pb2.Contest(
        id=contest.id,
        title=contest.title if contest.title is not None else contest.id,
        choices=[
            election_pb2.Choice(id=c.id, label=c.id if c.label is None else c.label) for c in contest.choices
        ],
        min_selections=contest.min,
        max_selections=contest.max,
    )


def _trustee(trustee: TrusteeFile, number: int) -> election_pb2.Trustee:
    where = f"trustees[{number}]"
    return election_pb2.Trustee(
        name=trustee.name,
        sign_key=parse_public_key(trustee.sign_key, f"{where}.sign_key"),
        enc_key=parse_public_key(trustee.enc_key, f"{where}.enc_key"),
    )


def trustee_from_table(table: Table, number: int) -> election_pb2.Trustee:
    """One `[[trustees]]` table, as `trustee keygen` prints it, as trustee `number` (1-based)."""
    return _trustee(parse(TrusteeFile, table, f"trustees[{number}]"), number)


def definition_from_toml(document: Table, now_ms: int) -> election_pb2.ElectionCreate:
    """The ElectionCreate a parsed definition file asks for (ConfigError, one line, if malformed)."""
    definition = parse(DefinitionFile, document, "definition")
    start_ms, end_ms = _window(definition.window, now_ms)
    return election_pb2.ElectionCreate(
        election_id=definition.id,
        title=definition.title,
        contests=[_contest(c) for c in definition.contests],
        window_start_ms=start_ms,
        window_end_ms=end_ms,
        trustees=[_trustee(t, n) for n, t in enumerate(definition.trustees, start=1)],
        threshold=definition.threshold,
        groups=definition.groups,
        deal_deadline_ms=parse_time_ms(definition.keygen.deal_deadline, now_ms),
        complaint_window_ms=parse_duration_ms(definition.keygen.complaint_window),
        credential_authority=parse_public_key(
            definition.roles.credential_authority, "roles.credential_authority"
        ),
        identity_provider=parse_public_key(definition.roles.identity_provider, "roles.identity_provider"),
        app_bundle_sha256=b""
        if definition.app_bundle_sha256 is None
        else parse_sha256_hex(definition.app_bundle_sha256, "app_bundle_sha256"),
    )


def read_definition(path: Path, now_ms: int) -> election_pb2.ElectionCreate:
    document = read_toml(path, "definition", MAX_DEFINITION_BYTES)
    try:
        return definition_from_toml(document, now_ms)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
