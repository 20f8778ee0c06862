"""End to end: key generation, ballots, encrypted tally, threshold decryption."""

from __future__ import annotations

import random

import pytest

from proto.votestore.v1 import election_pb2
from tests.crypto.conftest import ELECTION_ID, key_setup, make_definition
from votestore.crypto import ballot, decryption, dkg, tally


@pytest.mark.parametrize(("n", "t", "seed"), [(3, 2, 1), (5, 3, 2)])
def test_election_counts_match_plain_choices(n: int, t: int, seed: int) -> None:
    rng = random.Random(seed)
    setup = key_setup(n, t)
    definition = make_definition([(4, 1, 1), (3, 0, 2)])
    expected = [[0] * 4, [0] * 3]
    aggregate = [tally.zero_ciphertext() for _ in range(7)]
    for _ in range(6):
        picks = [[rng.randrange(4)], rng.sample(range(3), rng.randint(0, 2))]
        b = ballot.encrypt_ballot(ELECTION_ID, definition, setup.election_key, picks)
        ballot.verify_ballot(ELECTION_ID, definition, setup.election_key, b)
        for contest, chosen in zip(expected, picks, strict=True):
            for c in chosen:
                contest[c] += 1
        cts = [ct for enc in b.contests for ct in enc.selections]
        aggregate = [tally.add_ciphertexts(a, c) for a, c in zip(aggregate, cts, strict=True)]
    parts = {
        i: decryption.partial_decrypt(ELECTION_ID, i, setup.shares[i], aggregate) for i in range(1, t + 1)
    }
    for i, ps in parts.items():
        vk = dkg.verification_key(setup.deals, i)
        assert all(
            decryption.verify_partial(ELECTION_ID, i, vk, ct, p) for ct, p in zip(aggregate, ps, strict=True)
        )
    counts = decryption.combine(ELECTION_ID, aggregate, parts, max_count=6)
    assert counts == expected[0] + expected[1]


def test_empty_tally_decrypts_to_zero() -> None:
    setup = key_setup(3, 2)
    aggregate = [tally.zero_ciphertext(), tally.zero_ciphertext()]
    parts = {i: decryption.partial_decrypt(ELECTION_ID, i, setup.shares[i], aggregate) for i in (1, 3)}
    vk = dkg.verification_key(setup.deals, 3)
    assert decryption.verify_partial(ELECTION_ID, 3, vk, aggregate[0], parts[3][0])
    assert decryption.combine(ELECTION_ID, aggregate, parts, max_count=0) == [0, 0]
    assert isinstance(aggregate[0], election_pb2.Ciphertext)
