"""Adding a batch of validated ciphertexts at once equals adding them one by one."""

from __future__ import annotations

import pytest

from votestore.crypto import elgamal, group, tally


@pytest.mark.parametrize("count", [0, 1, 2, 7])
def test_add_validated_equals_one_by_one(count: int) -> None:
    key = group.base_mult(group.random_scalar())
    ciphertexts = [elgamal.to_pb(elgamal.encrypt(key, m % 2, group.random_scalar())) for m in range(count)]
    one_by_one = tally.zero_ciphertext()
    for ciphertext in ciphertexts:
        one_by_one = tally.add_ciphertexts(one_by_one, ciphertext)
    assert tally.add_validated(tally.zero_ciphertext(), ciphertexts) == one_by_one
    assert tally.add_validated(one_by_one, []) == one_by_one


def test_ballots_handed_over_add_as_encoded_ones() -> None:
    """`add_ballots` over handed-over points (tally.handover), encoded ciphertexts, or both."""
    key = group.base_mult(group.random_scalar())
    ballots = [[elgamal.encrypt(key, (b + i) % 2, group.random_scalar()) for i in range(3)] for b in range(4)]
    encoded = [[elgamal.to_pb(ct) for ct in ballot] for ballot in ballots]
    totals = [tally.add_ciphertexts(tally.zero_ciphertext(), ct) for ct in encoded[0]]
    expected = tally.add_ballots(totals, encoded, [])
    handed = [tally.handover(ballot) for ballot in ballots]
    assert tally.add_ballots(totals, [], handed) == expected
    assert tally.add_ballots(totals, encoded[:1], handed[1:]) == expected
    assert tally.add_ballots(totals, [], []) == totals
