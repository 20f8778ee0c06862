"""Opening an encrypted ballot with its nonces: the check of Benaloh's cast-or-audit, in one place
for the validators (election/auditing.py), the verifier and `votestore ballot audit`.

An exponential ElGamal ciphertext under key K with nonce r is (g^r, g^m·K^r). Given r, the
ciphertext opens to m ∈ {0, 1} only if it is exactly one of (g^r, K^r) and (g^r, g·K^r); a nonce
that opens it to neither is a forged audit (or a page that encrypted something else).
"""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import election_pb2
from votestore.crypto import group
from votestore.crypto.errors import BallotInvalid


def opened_value(key: bytes, ct: election_pb2.Ciphertext, nonce: int) -> int | None:
    """0 or 1 if `nonce` opens `ct` under the decoded election key `key` to that value; None if it
    opens it to neither."""
    if ct.alpha != group.base_mult(nonce):
        return None
    masked = group.mult(nonce, key)
    if ct.beta == masked:
        return 0
    if ct.beta == group.add(group.GENERATOR, masked):
        return 1
    return None


def open_ballot(election_key: bytes, ballot: election_pb2.Ballot, nonces: Sequence[bytes]) -> bytes:
    """Every selection's value, one byte (0 or 1) per selection, contests in order, as the nonces
    (32-byte canonical scalars, same order) open them. Raises BallotInvalid if a nonce is missing
    or opens its ciphertext to neither value, DecodeError if a nonce or the key does not decode."""
    key = group.decode_point(election_key)
    selections = [ct for contest in ballot.contests for ct in contest.selections]
    if len(nonces) != len(selections):
        raise BallotInvalid(f"{len(nonces)} nonces for {len(selections)} selections")
    values = bytearray()
    for at, (ct, raw) in enumerate(zip(selections, nonces, strict=True)):
        value = opened_value(key, ct, group.decode_scalar(raw))
        if value is None:
            raise BallotInvalid(f"selection {at}: the nonce does not open this ciphertext to 0 or 1")
        values.append(value)
    return bytes(values)
