"""Shared builders for the crypto tests: definitions and a completed key generation."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from proto.votestore.v1 import election_pb2
from votestore.crypto import dkg

ELECTION_ID = "e-2026-test"
CHAIN_ID = "crypto-test"


def make_definition(
    contests: list[tuple[int, int, int]], election_id: str = ELECTION_ID
) -> election_pb2.ElectionCreate:
    """contests: (choices, min, max) per contest."""
    d = election_pb2.ElectionCreate(election_id=election_id, title="test")
    for ci, (n, lo, hi) in enumerate(contests):
        d.contests.add(
            id=f"c{ci}",
            title=f"contest {ci}",
            choices=[election_pb2.Choice(id=f"c{ci}-{k}", label=str(k)) for k in range(n)],
            min_selections=lo,
            max_selections=hi,
        )
    return d


@dataclass(frozen=True, slots=True)
class KeySetup:
    trustees: list[election_pb2.Trustee]
    secrets: list[dkg.TrusteeSecrets]
    threshold: int
    deals: list[election_pb2.DkgDeal]
    election_key: bytes
    shares: dict[int, bytes]  # trustee index -> secret key share


@functools.lru_cache(maxsize=4)
def key_setup(n: int, t: int, election_id: str = ELECTION_ID) -> KeySetup:
    """An honest key generation among n trustees with threshold t (cached: it is deterministic in
    outcome and costs a few hundred multiplications)."""
    pairs = [dkg.new_trustee(f"trustee-{i}", i) for i in range(1, n + 1)]
    secrets = [p[0] for p in pairs]
    trustees = [p[1] for p in pairs]
    deals = [dkg.make_deal(CHAIN_ID, election_id, trustees, t, s.index) for s in secrets]
    shares = {
        s.index: dkg.secret_share(
            [dkg.open_share(election_id, trustees, d, s.index, s.enc_secret) for d in deals]
        )
        for s in secrets
    }
    return KeySetup(trustees, secrets, t, deals, dkg.election_key(deals), shares)
