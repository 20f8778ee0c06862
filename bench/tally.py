"""Tally benchmark: decrypting the count of 1,000,000 ballots (1 contest x 4 choices) with 3 of 5
trustees, as the ledger does it.

    .venv/bin/python -m bench.tally [--ballots 1000000] [--repeats 3]

Timed, one core, best and median of `--repeats` cold runs (the baby-step table rebuilt each time):
each trustee's partial decryption of the aggregate with its proofs (trustees work in parallel on
their own machines, so the slowest counts), then what every validator does on the shares: check
each part's proof against the trustee's verification key, combine 3 by Lagrange in the exponent
and take the bounded discrete log of each count. Goal: < 2 s in all. Two splits of the count:
spread over the choices, and all on one choice (the most giant steps).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bench.common import print_table, write_result
from proto.votestore.v1 import election_pb2
from votestore.crypto import decryption, dkg, dlog, elgamal, group

ELECTION_ID: Final = "tally-bench"
CHAIN_ID: Final = "tally-bench-chain"
TRUSTEES: Final = 5
THRESHOLD: Final = 3
PRESENT: Final = (1, 3, 5)
CHOICES: Final = 4
GOAL_S: Final = 2.0
SEED: Final = 20260110


@dataclass(frozen=True, slots=True)
class Keys:
    trustees: list[election_pb2.Trustee]
    shares: dict[int, bytes]
    verification_keys: dict[int, bytes]
    election_key: bytes


def key_ceremony() -> Keys:
    """A finished 3-of-5 key generation (each trustee deals; each opens its shares)."""
    pairs = [dkg.new_trustee(f"t{i}", i) for i in range(1, TRUSTEES + 1)]
    trustees = [public for _, public in pairs]
    deals = [dkg.make_deal(CHAIN_ID, ELECTION_ID, trustees, THRESHOLD, s.index) for s, _ in pairs]
    shares = {
        s.index: dkg.secret_share(
            [dkg.open_share(ELECTION_ID, trustees, deal, s.index, s.enc_secret) for deal in deals]
        )
        for s, _ in pairs
    }
    keys = {i: dkg.verification_key(deals, i) for i in shares}
    return Keys(trustees, shares, keys, dkg.election_key(deals))


@dataclass(frozen=True, slots=True)
class Run:
    slowest_trustee_s: float
    verify_s: float
    combine_s: float

    @property
    def total_s(self) -> float:
        return self.slowest_trustee_s + self.verify_s + self.combine_s


def one_run(keys: Keys, aggregate: Sequence[election_pb2.Ciphertext], counts: list[int], ballots: int) -> Run:
    trustee_s = []
    parts = {}
    for index in PRESENT:
        started = time.perf_counter()
        parts[index] = decryption.partial_decrypt(ELECTION_ID, index, keys.shares[index], aggregate)
        trustee_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    for index in PRESENT:
        for ciphertext, part in zip(aggregate, parts[index], strict=True):
            assert decryption.verify_partial(
                ELECTION_ID, index, keys.verification_keys[index], ciphertext, part
            )
    verify_s = time.perf_counter() - started
    dlog._baby_steps.cache_clear()  # cold: a validator counts once, the table is built then
    started = time.perf_counter()
    got = decryption.combine(ELECTION_ID, aggregate, parts, ballots, threshold=THRESHOLD)
    combine_s = time.perf_counter() - started
    assert got == counts, (got, counts)
    return Run(max(trustee_s), verify_s, combine_s)


def split(ballots: int, spread: bool, rng: random.Random) -> list[int]:
    if not spread:
        return [ballots] + [0] * (CHOICES - 1)
    cuts = sorted(rng.randrange(ballots + 1) for _ in range(CHOICES - 1))
    edges = [0, *cuts, ballots]
    return [edges[k + 1] - edges[k] for k in range(CHOICES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="tally", help="name of the JSON under bench/results/")
    args = parser.parse_args()
    rng = random.Random(SEED)
    keys = key_ceremony()
    cases: dict[str, object] = {}
    medians: list[float] = []
    rows: list[tuple[str, object]] = []
    for name, spread in (("spread over the choices", True), ("all on one choice", False)):
        counts = split(args.ballots, spread, rng)
        # The aggregate: the product of all ballots' ciphertexts is one encryption of the counts.
        aggregate = [
            elgamal.to_pb(elgamal.encrypt(keys.election_key, c, group.random_scalar())) for c in counts
        ]
        runs = [one_run(keys, aggregate, counts, args.ballots) for _ in range(args.repeats)]
        best = min(runs, key=lambda r: r.total_s)
        median_s = statistics.median(r.total_s for r in runs)
        medians.append(median_s)
        cases[name] = {
            "counts": counts,
            "best": {
                "slowest_trustee_partial_s": round(best.slowest_trustee_s, 4),
                "verify_shares_s": round(best.verify_s, 4),
                "combine_and_dlog_s": round(best.combine_s, 4),
                "total_s": round(best.total_s, 4),
            },
            "median_total_s": round(median_s, 4),
            "all_totals_s": [round(r.total_s, 4) for r in runs],
        }
        rows += [
            (f"{name}: trustee partial (slowest)", f"{best.slowest_trustee_s * 1000:.1f} ms"),
            (f"{name}: verify 3 shares", f"{best.verify_s * 1000:.1f} ms"),
            (f"{name}: combine + discrete logs (cold)", f"{best.combine_s * 1000:.1f} ms"),
            (f"{name}: total best / median", f"{best.total_s:.3f} s / {median_s:.3f} s"),
        ]
    worst = max(medians)
    rows.append((f"goal < {GOAL_S:g} s (worst median)", "met" if worst < GOAL_S else "NOT met"))
    path = write_result(
        args.out,
        {
            "command": f".venv/bin/python -m bench.tally --ballots {args.ballots} --repeats {args.repeats}",
            "ballots": args.ballots,
            "trustees": f"{THRESHOLD} of {TRUSTEES} (present: {list(PRESENT)})",
            "choices": CHOICES,
            "cases": cases,
            "goals": {f"< {GOAL_S:g} s": worst < GOAL_S},
        },
    )
    print_table(f"votestore tally benchmark: {args.ballots:,} ballots, 3 of 5 trustees", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
