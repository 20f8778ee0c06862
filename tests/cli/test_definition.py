"""The election definition file: times (ISO-8601 with offset, `now`, `+1h`), the mapping to
ElectionCreate, and the one-line reasons a malformed file gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli.definition import definition_from_toml, iso_utc, parse_time_ms, read_definition
from votestore.errors import ConfigError

NOW_MS = 1_780_000_000_000
KEY = "11" * 32
AUTHORITY = "22" * 32
PROVIDER = "33" * 32


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("now", NOW_MS),
        ("+90s", NOW_MS + 90_000),
        ("+30m", NOW_MS + 1_800_000),
        ("+1h", NOW_MS + 3_600_000),
        ("+2d", NOW_MS + 172_800_000),
        ("2026-05-03T08:00:00+02:00", 1_777_788_000_000),
        ("2026-05-03T06:00:00Z", 1_777_788_000_000),
    ],
)
def test_times(text: str, expected_ms: int) -> None:
    assert parse_time_ms(text, NOW_MS) == expected_ms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-05-03T08:00:00", "no UTC offset"),
        ("tomorrow", "expected ISO-8601"),
        ("+1w", "expected ISO-8601"),
        ("-1h", "expected ISO-8601"),
    ],
)
def test_bad_times(text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_time_ms(text, NOW_MS)


def _document() -> dict[str, object]:
    return {
        "id": "e1",
        "title": "Test",
        "groups": ["north"],
        "threshold": 1,
        "window": {"start": "now", "end": "+1h"},
        "keygen": {"deal_deadline": "+10m", "complaint_window": "5m"},
        "contests": [{"id": "c", "min": 0, "max": 1, "choices": ["x", {"id": "y", "label": "Why"}]}],
        "trustees": [{"name": "ann", "sign_key": KEY, "enc_key": KEY}],
        "roles": {"credential_authority": AUTHORITY, "identity_provider": PROVIDER},
    }


def test_mapping() -> None:
    record = definition_from_toml(_document(), NOW_MS)
    assert (record.election_id, record.title, list(record.groups), record.threshold) == (
        "e1",
        "Test",
        ["north"],
        1,
    )
    assert (record.window_start_ms, record.window_end_ms) == (NOW_MS, NOW_MS + 3_600_000)
    assert (record.deal_deadline_ms, record.complaint_window_ms) == (NOW_MS + 600_000, 300_000)
    contest = record.contests[0]
    assert (contest.id, contest.title, contest.min_selections, contest.max_selections) == ("c", "c", 0, 1)
    assert [(c.id, c.label) for c in contest.choices] == [("x", "x"), ("y", "Why")]
    assert record.trustees[0].sign_key == bytes.fromhex(KEY)
    assert record.credential_authority == bytes.fromhex(AUTHORITY)
    assert record.identity_provider == bytes.fromhex(PROVIDER)
    assert record.app_bundle_sha256 == b""


def test_app_bundle_hash() -> None:
    document = _document()
    document["app_bundle_sha256"] = "ab" * 32
    assert definition_from_toml(document, NOW_MS).app_bundle_sha256 == bytes.fromhex("ab" * 32)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "definition: missing key 'id'"),
        ({"threshold": "2"}, "threshold must be an integer"),
        ({"threshold": True}, "threshold must be an integer"),
        ({"threshold": -1}, "threshold must be at least 0"),
        ({"window": None}, "missing key 'window'"),
        ({"keygen": None}, "missing key 'keygen'"),
        ({"keygen": {"deal_deadline": "+10m"}}, "missing key 'keygen.complaint_window'"),
        ({"keygen": {"deal_deadline": "+10m", "complaint_window": "+5m"}}, "expected a number and a unit"),
        ({"groups": [1]}, r"groups\[1\] must be a string"),
        ({"contests": [{"id": "c", "min": 0, "max": 1, "choices": [3]}]}, "must be an id or a table"),
        ({"contests": ["c"]}, r"contests\[1\] must be a table"),
        ({"trustees": [{"name": "a", "sign_key": "zz", "enc_key": KEY}]}, "sign_key: not hex"),
        ({"trustees": [{"name": "a", "sign_key": KEY, "enc_key": "11"}]}, "must be 32 bytes"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
        ({"window": {"start": "now", "end": "+1h", "zone": "utc"}}, r"unknown keys \['window.zone'\]"),
        ({"title": 3}, "title must be a string"),
        ({"roles": None}, "missing key 'roles'"),
        ({"roles": {"credential_authority": AUTHORITY}}, "missing key 'roles.identity_provider'"),
        ({"roles": {"credential_authority": "22", "identity_provider": PROVIDER}}, "must be 32 bytes"),
        ({"app_bundle_sha256": "ab" * 31}, "app_bundle_sha256: must be 32 bytes"),
        ({"app_bundle_sha256": "zz" * 32}, "app_bundle_sha256: not hex"),
        ({"app_bundle_sha256": 3}, "app_bundle_sha256 must be a string"),
    ],
)
def test_malformed(change: dict[str, object], reason: str) -> None:
    document = _document()
    for key, value in change.items():
        if value is None:
            del document[key]
        else:
            document[key] = value
    with pytest.raises(ConfigError, match=reason):
        definition_from_toml(document, NOW_MS)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    garbled = tmp_path / "garbled.toml"
    garbled.write_text("id = ")
    with pytest.raises(ConfigError, match=r"garbled\.toml"):
        read_definition(garbled, NOW_MS)
    with pytest.raises(ConfigError, match=r"absent\.toml"):
        read_definition(tmp_path / "absent.toml", NOW_MS)


def _window(start: str, end: str) -> tuple[int, int]:
    document = _document()
    document["window"] = {"start": start, "end": end}
    record = definition_from_toml(document, NOW_MS)
    return record.window_start_ms, record.window_end_ms


def test_a_relative_end_counts_from_the_start() -> None:
    """admin.md's example: a fixed start and `end = "+2d"` is a two-day window (it counted from
    `election create` before, and the chain refused it in raw milliseconds)."""
    start = NOW_MS + 86_400_000
    assert _window(iso_utc(start), "+2d") == (start, start + 172_800_000)
    assert _window("+1h", "+30m") == (NOW_MS + 3_600_000, NOW_MS + 5_400_000)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (
            "2026-05-05T08:00:00+02:00",
            "2026-05-03T08:00:00+02:00",
            "window end 2026-05-03T06:00:00Z is not after its start 2026-05-05T06:00:00Z",
        ),
        ("2026-05-03T08:00:00Z", "2026-05-03T08:00:00Z", "is not after its start"),
        ("2020-01-01T00:00:00Z", "+1d", r"window end 2020-01-02T00:00:00Z is already past \(now 2026-"),
    ],
)
def test_window_refusals_say_iso_utc(start: str, end: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        _window(start, end)


def test_iso_utc() -> None:
    assert iso_utc(1_777_788_000_000) == "2026-05-03T06:00:00Z"
    assert iso_utc(1_777_788_000_250) == "2026-05-03T06:00:00.250Z"
