"""ElectionCreate: what the chain policy refuses, one row per rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from election.policy import (
    MAX_CHOICES_PER_CONTEST,
    MAX_CONTESTS,
    MAX_ID_BYTES,
    MIN_COMPLAINT_WINDOW_MS,
    ChainPolicy,
)
from proto.votestore.v1 import election_pb2
from tests.ledger.harness import (
    ADMIN,
    CHAIN_ID,
    POLICY,
    T0_MS,
    WINDOW_END_MS,
    WINDOW_START_MS,
    Chain,
    create,
    definition,
)
from votestore import txbuild
from votestore.errors import ConfigError
from votestore.genesis import DAY_MS as MS_PER_DAY
from votestore.genesis import HARD_MAX_WINDOW_MS

Mutation = Callable[[election_pb2.ElectionCreate], None]


def _set(field: str, value: object) -> Mutation:
    return lambda d: setattr(d, field, value)


def _many_contests(d: election_pb2.ElectionCreate) -> None:
    for n in range(MAX_CONTESTS):
        d.contests.append(txbuild.contest(f"c{n}", ["x"], 0, 1))


def _window(days: float) -> Mutation:
    return _set("window_end_ms", WINDOW_START_MS + int(days * MS_PER_DAY))


BAD_DEFINITIONS: list[tuple[str, Mutation]] = [
    ("empty id", _set("election_id", "")),
    ("id with slash", _set("election_id", "a/b")),
    ("id too long", _set("election_id", "x" * (MAX_ID_BYTES + 1))),
    ("no contests", lambda d: d.ClearField("contests")),
    ("too many contests", _many_contests),
    ("repeated contest id", lambda d: setattr(d.contests[1], "id", "mayor")),
    ("no choices", lambda d: d.contests[0].ClearField("choices")),
    (
        "too many choices",
        lambda d: d.contests[0].choices.extend(
            election_pb2.Choice(id=f"x{n}") for n in range(MAX_CHOICES_PER_CONTEST)
        ),
    ),
    ("repeated choice id", lambda d: setattr(d.contests[0].choices[1], "id", "a")),
    ("max above choices", lambda d: setattr(d.contests[0], "max_selections", 5)),
    ("max zero", lambda d: setattr(d.contests[1], "max_selections", 0)),
    ("min above max", lambda d: setattr(d.contests[1], "min_selections", 3)),
    ("threshold zero", _set("threshold", 0)),
    ("threshold above trustees", _set("threshold", 4)),
    ("no trustees", lambda d: d.ClearField("trustees")),
    ("short sign key", lambda d: setattr(d.trustees[0], "sign_key", b"\x01" * 31)),
    ("enc key not a point", lambda d: setattr(d.trustees[0], "enc_key", b"\xff" * 32)),
    (
        "enc key repeated under a second encoding (top bit set)",
        lambda d: setattr(
            d.trustees[1], "enc_key", d.trustees[0].enc_key[:31] + bytes([d.trustees[0].enc_key[31] | 0x80])
        ),
    ),
    ("repeated trustee key", lambda d: setattr(d.trustees[1], "sign_key", d.trustees[0].sign_key)),
    ("repeated group", lambda d: d.groups.append("north")),
    ("empty group name", lambda d: d.groups.append("")),
    ("window ends before it starts", _set("window_end_ms", WINDOW_START_MS)),
    ("window longer than policy", _window(3.001)),
    ("window ended already", _set("window_end_ms", T0_MS)),
    ("no deal deadline", lambda d: d.ClearField("deal_deadline_ms")),
    ("deal deadline passed", _set("deal_deadline_ms", T0_MS)),
    ("no complaint window", lambda d: d.ClearField("complaint_window_ms")),
    ("complaint window below the floor", _set("complaint_window_ms", MIN_COMPLAINT_WINDOW_MS - 1)),
    ("key generation ends after the window", _set("deal_deadline_ms", WINDOW_END_MS - 1)),
    ("app bundle hash of 31 bytes", _set("app_bundle_sha256", b"\x01" * 31)),
    ("app bundle hash of 33 bytes", _set("app_bundle_sha256", b"\x01" * 33)),
    ("app bundle hash of 64 bytes (hex text, not the digest)", _set("app_bundle_sha256", b"ab" * 32)),
]


@pytest.mark.parametrize(("why", "mutate"), BAD_DEFINITIONS, ids=[b[0] for b in BAD_DEFINITIONS])
def test_bad_definition_refused(why: str, mutate: Mutation) -> None:
    chain = Chain()
    bad = definition()
    mutate(bad)
    assert chain.one(create(bad)) == "BAD_DEFINITION", why
    assert chain.app.list_elections() == []


def test_good_definition_recorded_in_key_generation() -> None:
    chain = Chain()
    assert chain.one(create(definition())) == "OK"
    record = chain.state("e1")
    assert record.phase == election_pb2.KEY_GENERATION
    assert record.definition == definition()
    assert [t.group for t in record.turnout] == ["north", "south"]
    assert chain.app.list_elections() == ["e1"]


@pytest.mark.parametrize("digest", [b"", b"\x5a" * 32], ids=["absent", "sha256"])
def test_app_bundle_hash_absent_or_32_bytes(digest: bytes) -> None:
    chain = Chain()
    good = definition()
    good.app_bundle_sha256 = digest
    assert chain.one(create(good)) == "OK"
    assert chain.state("e1").definition.app_bundle_sha256 == digest


def test_no_groups_means_one_unnamed_group() -> None:
    chain = Chain()
    assert chain.one(create(definition(groups=()))) == "OK"
    assert [t.group for t in chain.state("e1").turnout] == [""]


@pytest.mark.parametrize(("days", "expected"), [(3, "OK"), (4, "BAD_DEFINITION"), (5, "BAD_DEFINITION")])
def test_default_policy_allows_three_days(days: int, expected: str) -> None:
    chain = Chain()
    window = (WINDOW_START_MS, WINDOW_START_MS + days * MS_PER_DAY)
    assert chain.one(create(definition(window=window))) == expected


def test_policy_extended_to_five_days() -> None:
    chain = Chain(policy=ChainPolicy(CHAIN_ID, POLICY.admin_keys, HARD_MAX_WINDOW_MS))
    window = (WINDOW_START_MS, WINDOW_START_MS + 5 * MS_PER_DAY)
    assert chain.one(create(definition(window=window))) == "OK"


@pytest.mark.parametrize("max_window_ms", [0, HARD_MAX_WINDOW_MS + 1])
def test_policy_beyond_hard_cap_is_a_config_error(max_window_ms: int) -> None:
    with pytest.raises(ConfigError):
        ChainPolicy(CHAIN_ID, frozenset({bytes(ADMIN.verify_key)}), max_window_ms)


def test_same_id_twice_in_one_block_is_duplicate() -> None:
    chain = Chain()
    assert [r.code for r in chain.block([create(definition()), create(definition())])] == [
        election_pb2.OK,
        election_pb2.DUPLICATE,
    ]
