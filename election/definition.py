"""Checking an election definition against the chain policy before it is recorded.

A definition is immutable once recorded, so everything later rules rely on — unique ids, selection
bounds, a threshold the trustees can meet, a window the policy allows — is enforced here, once.
"""

from __future__ import annotations

from collections.abc import Iterable

from election.policy import (
    MAX_CHOICES_PER_CONTEST,
    MAX_CONTESTS,
    MAX_GROUPS,
    MAX_TITLE_BYTES,
    MAX_TRUSTEES,
    MIN_COMPLAINT_WINDOW_MS,
    ChainPolicy,
)
from election.reasons import refuse
from proto.votestore.v1 import election_pb2
from votestore.crypto import group
from votestore.encoding import PUBLIC_KEY_BYTES
from votestore.errors import DecodeError
from votestore.hashing import HASH_BYTES
from votestore.ids import id_problem


def _bad(detail: str) -> None:
    refuse(election_pb2.BAD_DEFINITION, detail)


def _check_ids(what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        problem = id_problem(what, ident)
        if problem is not None:
            _bad(problem)
        if ident in seen:
            _bad(f"{what} id {ident!r} repeated")
        seen.add(ident)


def _check_contest(contest: election_pb2.Contest) -> None:
    choices = len(contest.choices)
    if not 1 <= choices <= MAX_CHOICES_PER_CONTEST:
        _bad(f"contest {contest.id!r} has {choices} choices, allowed 1..{MAX_CHOICES_PER_CONTEST}")
    _check_ids("choice", (c.id for c in contest.choices))
    if not 1 <= contest.max_selections <= choices or contest.min_selections > contest.max_selections:
        _bad(
            f"contest {contest.id!r} needs 0 <= min <= max <= choices and max >= 1, got "
            f"min {contest.min_selections} max {contest.max_selections} choices {choices}"
        )
    if len(contest.title.encode()) > MAX_TITLE_BYTES:
        _bad(f"contest {contest.id!r} title exceeds {MAX_TITLE_BYTES} bytes")


def _check_trustees(definition: election_pb2.ElectionCreate) -> None:
    trustees = definition.trustees
    if not 1 <= len(trustees) <= MAX_TRUSTEES:
        _bad(f"{len(trustees)} trustees, allowed 1..{MAX_TRUSTEES}")
    if not 1 <= definition.threshold <= len(trustees):
        _bad(f"threshold {definition.threshold} outside 1..{len(trustees)} trustees")
    for index, trustee in enumerate(trustees, start=1):
        if len(trustee.sign_key) != PUBLIC_KEY_BYTES:
            _bad(f"trustee {index} sign key must be {PUBLIC_KEY_BYTES} bytes")
        try:
            group.decode_point(trustee.enc_key)
        except DecodeError as exc:
            _bad(f"trustee {index} enc key is not a ristretto255 point: {exc}")
        if len(trustee.name.encode()) > MAX_TITLE_BYTES:
            _bad(f"trustee {index} name exceeds {MAX_TITLE_BYTES} bytes")
    if len({t.sign_key for t in trustees}) != len(trustees) or len({t.enc_key for t in trustees}) != len(
        trustees
    ):
        _bad("trustee keys repeated")


def check_definition(policy: ChainPolicy, definition: election_pb2.ElectionCreate, now_ms: int) -> None:
    """Raise Rejected(BAD_DEFINITION) unless the definition fits the policy; `now_ms` is block time."""
    _check_ids("election", [definition.election_id])
    if len(definition.title.encode()) > MAX_TITLE_BYTES:
        _bad(f"title exceeds {MAX_TITLE_BYTES} bytes")
    if not 1 <= len(definition.contests) <= MAX_CONTESTS:
        _bad(f"{len(definition.contests)} contests, allowed 1..{MAX_CONTESTS}")
    _check_ids("contest", (c.id for c in definition.contests))
    for contest in definition.contests:
        _check_contest(contest)
    _check_trustees(definition)
    if len(definition.groups) > MAX_GROUPS:
        _bad(f"{len(definition.groups)} roll groups, allowed 0..{MAX_GROUPS}")
    _check_ids("group", definition.groups)
    start, end = definition.window_start_ms, definition.window_end_ms
    if end <= start:
        _bad(f"window end {end} is not after its start {start}")
    if end - start > policy.max_window_ms:
        _bad(f"window of {end - start} ms exceeds the chain's {policy.max_window_ms} ms")
    if end <= now_ms:
        _bad(f"window end {end} is not after block time {now_ms}")
    _check_keygen_schedule(policy, definition, now_ms)
    _check_roles(policy, definition)
    _check_app_bundle(definition)


def _check_app_bundle(definition: election_pb2.ElectionCreate) -> None:
    """The voter page's bundle hash is a SHA-256 or absent: a hash of another length could match
    no bundle, and an election whose voters use a page could then never be checked (docs/web.md)."""
    size = len(definition.app_bundle_sha256)
    if size not in (0, HASH_BYTES):
        _bad(f"app bundle hash must be {HASH_BYTES} bytes (SHA-256) or absent, got {size}")


def _check_roles(policy: ChainPolicy, definition: election_pb2.ElectionCreate) -> None:
    """The credential authority and the identity provider are two keys no other role holds: the
    roll's provenance and the identity check rest on that (docs/roles.md)."""
    authority, provider = definition.credential_authority, definition.identity_provider
    for name, key in (("credential authority", authority), ("identity provider", provider)):
        if len(key) != PUBLIC_KEY_BYTES:
            _bad(f"{name} key must be {PUBLIC_KEY_BYTES} bytes (an Ed25519 public key)")
        if key in policy.admin_keys:
            _bad(f"{name} key is a genesis admin key; the roles must be held apart")
        if any(key == t.sign_key for t in definition.trustees):
            _bad(f"{name} key is a trustee's sign key; the roles must be held apart")
    if authority == provider:
        _bad("credential authority and identity provider are the same key; the roles must be held apart")


def _check_keygen_schedule(policy: ChainPolicy, definition: election_pb2.ElectionCreate, now_ms: int) -> None:
    deadline, window = definition.deal_deadline_ms, definition.complaint_window_ms
    if deadline <= now_ms:
        _bad(f"deal deadline {deadline} is not after block time {now_ms}")
    if not MIN_COMPLAINT_WINDOW_MS <= window <= policy.max_window_ms:
        _bad(f"complaint window of {window} ms outside {MIN_COMPLAINT_WINDOW_MS}..{policy.max_window_ms} ms")
    if deadline + window >= definition.window_end_ms:
        _bad(f"key generation (deals until {deadline}, then {window} ms of complaints) ends after the window")


def total_choices(definition: election_pb2.ElectionCreate) -> int:
    """Length of the flat per-choice tally: contests in order, choices in order."""
    return sum(len(c.choices) for c in definition.contests)


def roll_groups(definition: election_pb2.ElectionCreate) -> list[str]:
    """Declared groups; an election that declares none has one unnamed group ``""``."""
    return list(definition.groups) or [""]
