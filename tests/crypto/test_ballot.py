"""Ballot encryption and verification: honest ballots verify, any change fails."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proto.votestore.v1 import election_pb2
from tests.crypto.conftest import ELECTION_ID, make_definition
from votestore.crypto import ballot, group
from votestore.crypto.errors import BallotInvalid
from votestore.errors import DecodeError

KEY = group.base_mult(0x1234567890ABCDEF)
VOTE_FOR_ONE = make_definition([(4, 1, 1)])
MIXED = make_definition([(4, 1, 1), (3, 0, 2), (2, 0, 1)])


@st.composite
def contests_and_picks(draw: st.DrawFn) -> tuple[election_pb2.ElectionCreate, list[list[int]]]:
    shapes = []
    picks = []
    for _ in range(draw(st.integers(1, 2))):
        n = draw(st.integers(1, 4))
        lo = draw(st.integers(0, n))
        hi = draw(st.integers(lo, n))
        shapes.append((n, lo, hi))
        picks.append(draw(st.lists(st.integers(0, n - 1), min_size=lo, max_size=hi, unique=True)))
    return make_definition(shapes), picks


@settings(deadline=None, max_examples=25)
@given(contests_and_picks())
def test_honest_ballots_verify(case: tuple[election_pb2.ElectionCreate, list[list[int]]]) -> None:
    definition, picks = case
    b = ballot.encrypt_ballot(ELECTION_ID, definition, KEY, picks, voter=b"v" * 32)
    ballot.verify_ballot(ELECTION_ID, definition, KEY, b, voter=b"v" * 32)


def _byte_fields(b: election_pb2.Ballot) -> Iterator[tuple[str, Callable[[bytes], None], bytes]]:
    """Every bytes field of the ballot, with a setter: (name, set, current value)."""

    def setter(container: object, field: str) -> Callable[[bytes], None]:
        return lambda v: setattr(container, field, v)

    def list_setter(container: list[bytes], i: int) -> Callable[[bytes], None]:
        def set_item(v: bytes) -> None:
            container[i] = v

        return set_item

    for ci, enc in enumerate(b.contests):
        for si, ct in enumerate(enc.selections):
            yield f"c{ci}.sel{si}.alpha", setter(ct, "alpha"), ct.alpha
            yield f"c{ci}.sel{si}.beta", setter(ct, "beta"), ct.beta
        proofs = [(f"c{ci}.proof{si}", p) for si, p in enumerate(enc.selection_proofs)]
        for name, p in [*proofs, (f"c{ci}.sum", enc.sum_proof)]:
            for k in range(len(p.challenges)):
                yield f"{name}.c{k}", list_setter(p.challenges, k), p.challenges[k]  # type: ignore[arg-type]
                yield f"{name}.v{k}", list_setter(p.responses, k), p.responses[k]  # type: ignore[arg-type]


def _field_names() -> list[str]:
    b = ballot.encrypt_ballot(ELECTION_ID, MIXED, KEY, [[1], [0, 2], []])
    return [name for name, _, _ in _byte_fields(b)]


@pytest.mark.parametrize("field", _field_names())
def test_any_changed_byte_in_ciphertext_or_proof_fails(field: str) -> None:
    rng = random.Random(field)
    b = ballot.encrypt_ballot(ELECTION_ID, MIXED, KEY, [[1], [0, 2], []])
    for _ in range(2):
        tampered = election_pb2.Ballot()
        tampered.CopyFrom(b)
        _, set_value, value = next(f for f in _byte_fields(tampered) if f[0] == field)
        at = rng.randrange(len(value))
        changed = bytearray(value)
        changed[at] ^= 1 << rng.randrange(8)
        set_value(bytes(changed))
        with pytest.raises(BallotInvalid):
            ballot.verify_ballot(ELECTION_ID, MIXED, KEY, tampered)


@settings(deadline=None, max_examples=20)
@given(st.integers(0, 31), st.integers(0, 7))
def test_any_changed_byte_in_key_fails(at: int, bit: int) -> None:
    b = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[2]])
    key = bytearray(KEY)
    key[at] ^= 1 << bit
    with pytest.raises((BallotInvalid, DecodeError)):
        ballot.verify_ballot(ELECTION_ID, VOTE_FOR_ONE, bytes(key), b)


def _with_ids(
    definition: election_pb2.ElectionCreate, election_id: str, contest_id: str
) -> election_pb2.ElectionCreate:
    d = election_pb2.ElectionCreate()
    d.CopyFrom(definition)
    d.election_id = election_id
    d.contests[0].id = contest_id
    return d


@pytest.mark.parametrize(
    ("election_id", "contest_id", "voter", "key"),
    [
        ("e-2026-tesT", "c0", b"", KEY),  # another election
        (ELECTION_ID, "c1", b"", KEY),  # another contest id
        (ELECTION_ID, "c0", b"\x01" * 32, KEY),  # cast by another voter
        (ELECTION_ID, "c0", b"", group.base_mult(99)),  # another election key
    ],
)
def test_proof_for_another_statement_fails(
    election_id: str, contest_id: str, voter: bytes, key: bytes
) -> None:
    b = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[0]])
    b.election_id = election_id
    b.contests[0].contest_id = contest_id
    with pytest.raises(BallotInvalid, match="proof fails"):
        ballot.verify_ballot(
            election_id, _with_ids(VOTE_FOR_ONE, election_id, contest_id), key, b, voter=voter
        )


def test_spliced_overvote_fails_the_sum_proof() -> None:
    """Each selection proof is valid on its own; the contest sum of two breaks vote-for-1."""
    first = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[0]])
    second = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[1]])
    second.contests[0].selections[0].CopyFrom(first.contests[0].selections[0])
    second.contests[0].selection_proofs[0].CopyFrom(first.contests[0].selection_proofs[0])
    with pytest.raises(BallotInvalid, match="selection count proof fails"):
        ballot.verify_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, second)


def test_proof_moved_to_another_ciphertext_fails() -> None:
    b = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[3]])
    enc = b.contests[0]
    enc.selection_proofs[0].CopyFrom(enc.selection_proofs[1])
    with pytest.raises(BallotInvalid, match="selection 0: 0/1 proof fails"):
        ballot.verify_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, b)


def test_encryption_of_two_cannot_pass_as_a_selection() -> None:
    """A ciphertext of 2 with the 0/1 proof of a ciphertext of 1 (same nonce-free statement)."""
    b = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[0]])
    ct = b.contests[0].selections[0]
    ct.beta = group.add(ct.beta, group.GENERATOR)
    with pytest.raises(BallotInvalid, match="proof fails"):
        ballot.verify_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, b)


def _mutations() -> list[tuple[str, Callable[[election_pb2.Ballot], None], str]]:
    def drop_contest(b: election_pb2.Ballot) -> None:
        del b.contests[-1]

    def reorder(b: election_pb2.Ballot) -> None:
        first, second = election_pb2.EncryptedContest(), election_pb2.EncryptedContest()
        first.CopyFrom(b.contests[0])
        second.CopyFrom(b.contests[1])
        b.contests[0].CopyFrom(second)
        b.contests[1].CopyFrom(first)

    def drop_selection(b: election_pb2.Ballot) -> None:
        del b.contests[0].selections[-1]

    def extra_proof(b: election_pb2.Ballot) -> None:
        b.contests[0].selection_proofs.add().CopyFrom(b.contests[0].selection_proofs[0])

    def short_selection_proof(b: election_pb2.Ballot) -> None:
        del b.contests[0].selection_proofs[0].challenges[-1]

    def long_sum_proof(b: election_pb2.Ballot) -> None:
        b.contests[0].sum_proof.challenges.append(bytes(32))
        b.contests[0].sum_proof.responses.append(bytes(32))

    def identity_alpha(b: election_pb2.Ballot) -> None:
        b.contests[0].selections[0].alpha = group.IDENTITY

    def short_point(b: election_pb2.Ballot) -> None:
        b.contests[1].selections[0].beta = b.contests[1].selections[0].beta[:31]

    def wrong_election(b: election_pb2.Ballot) -> None:
        b.election_id = "other"

    return [
        ("drop contest", drop_contest, "contests"),
        ("reorder contests", reorder, "expected"),
        ("drop selection", drop_selection, "one per choice"),
        ("extra selection proof", extra_proof, "one per choice"),
        ("short selection proof", short_selection_proof, "2 challenges"),
        ("long sum proof", long_sum_proof, "sum proof needs"),
        ("identity alpha", identity_alpha, "identity"),
        ("short point", short_point, "32 bytes"),
        ("wrong election", wrong_election, "another election"),
    ]


@pytest.mark.parametrize(("name", "mutate", "reason"), _mutations(), ids=[m[0] for m in _mutations()])
def test_structure_is_checked(name: str, mutate: Callable[[election_pb2.Ballot], None], reason: str) -> None:
    b = ballot.encrypt_ballot(ELECTION_ID, MIXED, KEY, [[1], [0, 2], []])
    mutate(b)
    with pytest.raises(BallotInvalid, match=reason):
        ballot.verify_ballot(ELECTION_ID, MIXED, KEY, b)


@pytest.mark.parametrize(
    "picks",
    [
        [[]],  # under min
        [[0, 1]],  # over max
        [[4]],  # no such choice
        [[1, 1]],  # repeated
        [[0], [0]],  # too many contests
    ],
)
def test_selection_breaking_the_rules_is_refused(picks: list[list[int]]) -> None:
    with pytest.raises(ValueError):
        ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, picks)


MAX_BALLOT_BYTES = 1536  # the stored-size goal for 1 contest x 4 choices vote-for-1


def test_vote_for_one_ballot_is_small() -> None:
    b = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[2]])
    enc = b.contests[0]
    assert len(enc.selections) == 4 and len(enc.sum_proof.challenges) == 1
    assert len(b.SerializeToString()) <= MAX_BALLOT_BYTES


def test_parallel_verification_reports_each_ballot() -> None:
    good = ballot.encrypt_ballot(ELECTION_ID, VOTE_FOR_ONE, KEY, [[1]], voter=b"a")
    bad = election_pb2.Ballot()
    bad.CopyFrom(good)
    bad.contests[0].sum_proof.responses[0] = bytes(32)
    items = [
        (good.SerializeToString(), b"a"),
        (bad.SerializeToString(), b"a"),
        (good.SerializeToString(), b"b"),
    ]
    with ProcessPoolExecutor(max_workers=1) as pool:  # proves the job pickles
        reasons = ballot.verify_ballots_parallel(pool, ELECTION_ID, VOTE_FOR_ONE, KEY, items)
    assert reasons[0] is None
    assert reasons[1] == "contest 'c0': selection count proof fails"
    assert reasons[2] is not None and "proof fails" in reasons[2]


_FIXED = ballot.encrypt_ballot(ELECTION_ID, MIXED, KEY, [[3], [1], [0]], voter=b"w")
_FIXED_FIELDS = [name for name, _, _ in _byte_fields(_FIXED)]


@settings(deadline=None, max_examples=60)
@given(st.sampled_from(_FIXED_FIELDS), st.integers(0, 31), st.integers(0, 7))
def test_property_any_bit_flip_fails(field: str, at: int, bit: int) -> None:
    tampered = election_pb2.Ballot()
    tampered.CopyFrom(_FIXED)
    _, set_value, value = next(f for f in _byte_fields(tampered) if f[0] == field)
    changed = bytearray(value)
    changed[at] ^= 1 << bit
    set_value(bytes(changed))
    with pytest.raises(BallotInvalid):
        ballot.verify_ballot(ELECTION_ID, MIXED, KEY, tampered, voter=b"w")


@settings(deadline=None, max_examples=20)
@given(st.text(min_size=1, max_size=12).filter(lambda s: s != ELECTION_ID), st.binary(max_size=33))
def test_property_other_election_or_voter_fails(election_id: str, voter: bytes) -> None:
    """The same ciphertexts and proofs presented for another election id or another voter."""
    moved = election_pb2.Ballot()
    moved.CopyFrom(_FIXED)
    moved.election_id = election_id
    definition = election_pb2.ElectionCreate()
    definition.CopyFrom(MIXED)
    definition.election_id = election_id
    with pytest.raises(BallotInvalid, match="proof fails"):
        ballot.verify_ballot(election_id, definition, KEY, moved, voter=b"w")
    if voter != b"w":
        with pytest.raises(BallotInvalid, match="proof fails"):
            ballot.verify_ballot(ELECTION_ID, MIXED, KEY, _FIXED, voter=voter)


@pytest.mark.parametrize(
    ("contests", "selections"),
    [
        ([(4, 1, 1), (5, 0, 2)], [[0], []]),
        ([(4, 1, 1), (5, 0, 2)], [[3], [0, 4]]),
        ([(32, 0, 32)] * 3, [list(range(32)), [], [5]]),
        ([(1, 0, 1)], [[]]),
    ],
)
def test_encoded_ballot_bytes_is_the_exact_size_of_a_ballot(
    contests: list[tuple[int, int, int]], selections: list[list[int]]
) -> None:
    definition = make_definition(contests)
    made = ballot.encrypt_ballot(ELECTION_ID, definition, group.base_mult(12345), selections, voter=bytes(32))
    made.attestation = bytes(64)  # the identity provider's signature every valid ballot carries
    assert len(made.SerializeToString(deterministic=True)) == ballot.encoded_ballot_bytes(definition)
