"""One side of `bench/crypto.py --against REV`: time the per-ballot and per-deal cryptography of
whichever checkout is first on `sys.path`, and print the figures as one JSON line.

Run by bench/crypto_versus.py in a child process whose PYTHONPATH is the checkout to measure (the
old one in a temporary git worktree, or this one), so both sides import their own `votestore` and
`election` and nothing else differs. It uses only what both sides have, and asks the checkout what
it has: a checkout without attestations (before issue 18's credential authority) makes unattested
ballots; one without deal proofs of knowledge checks a deal's form only.

    PYTHONPATH=<checkout> python bench/crypto_probe.py --ballots 200
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import time
from collections.abc import Callable
from typing import Any, Final

import nacl.signing

from election import stateless
from election.stateless import ElectionParams, verify_tx_stateless
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.crypto import ballot, dkg, group

CHAIN_ID: Final = "bench-chain"
ELECTION_ID: Final = "bench-2026"
REPEATS: Final = 5
DEAL_TRUSTEES: Final = 5
DEAL_THRESHOLD: Final = 3
DEALS_TIMED: Final = 50


def best_us(fn: Callable[[], object], number: int) -> float:
    """Best of REPEATS runs of `number` calls, in microseconds a call (the least disturbed run)."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return min(runs) * 1e6


def _definition(provider: nacl.signing.SigningKey | None) -> election_pb2.ElectionCreate:
    """Vote for 1 of 4, one trustee; naming the identity provider where the checkout has one."""
    d = election_pb2.ElectionCreate(election_id=ELECTION_ID, title="bench", threshold=1)
    d.contests.add(
        id="mayor",
        choices=[election_pb2.Choice(id=f"cand-{k}") for k in range(4)],
        min_selections=1,
        max_selections=1,
    )
    d.trustees.add(name="t1", sign_key=bytes(32), enc_key=group.base_mult(7))
    if provider is not None:
        d.identity_provider = bytes(provider.verify_key)
    return d


def _ballot_txs(count: int) -> tuple[ElectionParams, list[bytes], bool]:
    """Signed ballot transactions as a voter's client makes them on this checkout; and whether
    they carry an identity provider's attestation."""
    attested = "attest" in inspect.signature(txbuild.ballot).parameters
    provider = nacl.signing.SigningKey(bytes(range(1, 33))) if attested else None
    definition = _definition(provider)
    key = group.base_mult(group.random_scalar())
    secret = bytes(range(32))
    extra: list[Any] = []
    if provider is not None:
        from votestore.crypto import attestation

        extra = [attestation.local_attester(provider, CHAIN_ID, ELECTION_ID)]
    raws = [
        txbuild.ballot(CHAIN_ID, ELECTION_ID, definition, key, secret, [[i % 4]], *extra)
        for i in range(count)
    ]
    params = ElectionParams(definition, key)
    assert verify_tx_stateless(CHAIN_ID, raws[0], params).code == election_pb2.OK
    return params, raws, attested


def _stateless(params: ElectionParams, raws: list[bytes], count: int) -> float:
    items = itertools.cycle(raws)
    return best_us(lambda: verify_tx_stateless(CHAIN_ID, next(items), params), count)


def _without_attestation(params: ElectionParams, raws: list[bytes], count: int) -> float:
    """The same whole check with the attestation's signature check replaced by a pass: what the
    check costs beside the attestation, measured, not subtracted."""
    module: Any = stateless.attestation
    original = module.problem
    module.problem = lambda *_: None
    try:
        return _stateless(params, raws, count)
    finally:
        module.problem = original


def _encrypt(count: int) -> float:
    """Encrypt and prove one ballot (the voter's device), no signature."""
    definition = _definition(None)
    key = group.base_mult(group.random_scalar())
    voter = bytes(nacl.signing.SigningKey.generate().verify_key)
    picks = iter(range(10**9))
    return best_us(
        lambda: ballot.encrypt_ballot(ELECTION_ID, definition, key, [[next(picks) % 4]], voter=voter), count
    )


def _deals() -> dict[str, float | bool]:
    """Make and check one deal of DEAL_THRESHOLD of DEAL_TRUSTEES: everything a node checks of it."""
    pairs = [dkg.new_trustee(f"t{i}", i) for i in range(1, DEAL_TRUSTEES + 1)]
    publics = [public for _, public in pairs]
    proofs = hasattr(dkg, "check_deal_proofs")
    asks = inspect.signature(dkg.make_deal).parameters
    lead: tuple[str, ...] = (CHAIN_ID,) if "chain_id" in asks else ()
    # Before per-deal ephemeral keys a dealer encrypted its shares under its own static key.
    tail: tuple[bytes, ...] = (pairs[0][0].enc_secret,) if "dealer_enc_secret" in asks else ()
    deal = dkg.make_deal(*lead, ELECTION_ID, publics, DEAL_THRESHOLD, 1, *tail)

    def check() -> None:
        dkg.check_deal_form(ELECTION_ID, publics, DEAL_THRESHOLD, deal)
        if proofs:
            dkg.check_deal_proofs(CHAIN_ID, deal)

    return {
        "deal_make_us": best_us(
            lambda: dkg.make_deal(*lead, ELECTION_ID, publics, DEAL_THRESHOLD, 1, *tail), 10
        ),
        "deal_verify_us": best_us(check, DEALS_TIMED),
        "deal_proofs": proofs,
    }


def measure(count: int) -> dict[str, float | bool]:
    params, raws, attested = _ballot_txs(min(count, 50))
    figures: dict[str, float | bool] = {
        "attested": attested,
        "stateless_us": _stateless(params, raws, count),
        "encrypt_us": _encrypt(count),
    }
    if attested:
        figures["stateless_without_attestation_us"] = _without_attestation(params, raws, count)
    figures.update(_deals())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=200, help="calls per timing run")
    args = parser.parse_args()
    print(json.dumps(measure(args.ballots)))


if __name__ == "__main__":
    main()
