"""Threshold decryption: any t of n agree, t-1 learn nothing usable, bad shares are caught."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proto.votestore.v1 import election_pb2
from tests.crypto.conftest import ELECTION_ID, key_setup
from votestore.crypto import decryption, dkg, dlog, elgamal, group
from votestore.crypto.errors import DecryptionFailed


def _aggregate(key: bytes, counts: list[int], seed: int) -> list[election_pb2.Ciphertext]:
    """Ciphertexts of the counts, as a tally would hold them (nonces from a seeded source)."""
    rng = random.Random(seed)
    return [elgamal.to_pb(elgamal.encrypt(key, c, rng.randrange(1, group.L))) for c in counts]


def _parts(
    n: int, t: int, trustees: tuple[int, ...], aggregate: list[election_pb2.Ciphertext]
) -> dict[int, list[election_pb2.PartialDecryption]]:
    setup = key_setup(n, t)
    return {i: decryption.partial_decrypt(ELECTION_ID, i, setup.shares[i], aggregate) for i in trustees}


@settings(deadline=None, max_examples=8)
@given(st.lists(st.integers(0, 200), min_size=1, max_size=3), st.integers(0, 2**32))
def test_any_t_of_n_give_the_same_counts(counts: list[int], seed: int) -> None:
    setup = key_setup(5, 3)
    aggregate = _aggregate(setup.election_key, counts, seed)
    all_parts = _parts(5, 3, (1, 2, 3, 4, 5), aggregate)
    for subset in itertools.combinations(range(1, 6), 3):
        parts = {i: all_parts[i] for i in subset}
        assert decryption.combine(ELECTION_ID, aggregate, parts, max_count=200) == counts
    assert decryption.combine(ELECTION_ID, aggregate, all_parts, max_count=200) == counts


@pytest.mark.parametrize(("n", "t"), [(3, 2), (5, 3)])
def test_fewer_than_t_shares_do_not_decrypt(n: int, t: int) -> None:
    setup = key_setup(n, t)
    aggregate = _aggregate(setup.election_key, [3, 0, 7], seed=n)
    for subset in itertools.combinations(range(1, n + 1), t - 1):
        parts = _parts(n, t, subset, aggregate)
        with pytest.raises(DecryptionFailed, match=r"not in 0\.\.1000"):
            decryption.combine(ELECTION_ID, aggregate, parts, max_count=1000)
        with pytest.raises(DecryptionFailed, match=f"need {t}"):
            decryption.combine(ELECTION_ID, aggregate, parts, max_count=1000, threshold=t)


def test_partial_is_checked_against_its_statement() -> None:
    setup = key_setup(3, 2)
    aggregate = _aggregate(setup.election_key, [4, 1], seed=7)
    part = decryption.partial_decrypt(ELECTION_ID, 2, setup.shares[2], aggregate)[0]
    vk2, vk3 = dkg.verification_key(setup.deals, 2), dkg.verification_key(setup.deals, 3)
    assert decryption.verify_partial(ELECTION_ID, 2, vk2, aggregate[0], part)
    assert not decryption.verify_partial(ELECTION_ID, 3, vk3, aggregate[0], part)  # another trustee
    assert not decryption.verify_partial(ELECTION_ID, 2, vk3, aggregate[0], part)  # another key
    assert not decryption.verify_partial("other", 2, vk2, aggregate[0], part)  # another election
    assert not decryption.verify_partial(ELECTION_ID, 2, vk2, aggregate[1], part)  # another ciphertext


@pytest.mark.parametrize("field", ["share", "challenge", "response"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_changed_byte_in_a_partial_fails(field: str, seed: int) -> None:
    rng = random.Random(f"{field}{seed}")
    setup = key_setup(3, 2)
    aggregate = _aggregate(setup.election_key, [2], seed=seed)
    part = decryption.partial_decrypt(ELECTION_ID, 1, setup.shares[1], aggregate)[0]
    holder = part if field == "share" else part.proof
    value = bytearray(getattr(holder, field))
    value[rng.randrange(32)] ^= 1 << rng.randrange(8)
    setattr(holder, field, bytes(value))
    assert not decryption.verify_partial(
        ELECTION_ID, 1, dkg.verification_key(setup.deals, 1), aggregate[0], part
    )


def test_a_wrong_share_spoils_the_count() -> None:
    """The state machine must combine verified parts only: a forged one gives no count."""
    setup = key_setup(3, 2)
    aggregate = _aggregate(setup.election_key, [5], seed=3)
    parts = _parts(3, 2, (1, 2), aggregate)
    parts[2][0].share = group.base_mult(42)
    with pytest.raises(DecryptionFailed):
        decryption.combine(ELECTION_ID, aggregate, parts, max_count=100)


@pytest.mark.parametrize(
    ("value", "bound"), [(0, 0), (1, 1), (15, 16), (16, 16), (999_999, 1_000_000), (1000, 1000)]
)
def test_discrete_log_finds_values_within_the_bound(value: int, bound: int) -> None:
    assert dlog.discrete_log(group.base_mult(value), bound) == value


@pytest.mark.parametrize(("value", "bound"), [(1, 0), (17, 16), (1_000_001, 1_000_000), (group.L - 1, 100)])
def test_discrete_log_refuses_values_beyond_the_bound(value: int, bound: int) -> None:
    with pytest.raises(DecryptionFailed):
        dlog.discrete_log(group.base_mult(value), bound)


@settings(deadline=None, max_examples=20)
@given(st.integers(1, group.L - 1), st.integers(0, 2**32))
def test_property_partial_for_a_wrong_share_fails(delta: int, seed: int) -> None:
    """A proof made with the true share does not cover any other decryption share value."""
    setup = key_setup(3, 2)
    aggregate = _aggregate(setup.election_key, [1], seed=seed)
    part = decryption.partial_decrypt(ELECTION_ID, 3, setup.shares[3], aggregate)[0]
    part.share = group.add(part.share, group.base_mult(delta))
    assert not decryption.verify_partial(
        ELECTION_ID, 3, dkg.verification_key(setup.deals, 3), aggregate[0], part
    )
