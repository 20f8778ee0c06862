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


def test_points_handed_over_add_as_decoded_ones() -> None:
    key = group.base_mult(group.random_scalar())
    fresh = [elgamal.encrypt(key, m % 2, group.random_scalar()) for m in range(3)]
    encoded = [elgamal.to_pb(ct) for ct in fresh]
    taken = tally.taken_over(encoded, tally.handover(fresh))
    assert [ct.pair for ct in taken] == [ct.pair for ct in fresh]
    assert tally.add_validated(tally.zero_ciphertext(), taken) == tally.add_validated(
        tally.zero_ciphertext(), encoded
    )
