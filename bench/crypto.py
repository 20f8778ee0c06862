"""Ballot cryptography benchmark: per-ballot encrypt and verify time for 1 contest x 4 choices
vote-for-1, per primitive, the ratio to the primitive bound, bytes per stored ballot, the
threshold count of 1,000,000 ballots with 3 of 5 trustees, a node's whole stateless check of a
signed ballot transaction, and key generation's cost (a deal with its proofs of knowledge, made
and checked: per deal, nothing per ballot). One core, one process.

    .venv/bin/python bench/crypto.py [--ballots 300] [--out bench/results/crypto.json]
    .venv/bin/python bench/crypto.py --against e6cb7b4 [--rounds 6] [--ballots 200]

`--against REV` times instead this checkout against commit REV in the same run, old and new
alternated (bench/crypto_versus.py): the stateless ballot check with and without the attestation,
encrypt and prove, and a deal's check; it prints the ratios new / old.

The primitive bound of an operation is the multiplications its proof form needs, as votestore
computes them with libdecaf (fixed-base g^k, a multiple of the election key from its precomputed
table, the verifier's variable-time g^a P^b), times their measured cost; additions, decoding,
encoding and hashing are left out, so the bound cannot be met. The floor adds those. libsodium's
plain variable-base multiplication is measured too: the unit of a straightforward implementation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nacl.signing
import rbcl

from election.stateless import ElectionParams, verify_tx_stateless
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.crypto import attestation, ballot, decaf, decryption, dkg, dlog, elgamal, group, transcript

ELECTION_ID = "bench-2026"
CHAIN_ID = "bench-chain"
REPEATS = 5
ELECTIONGUARD = {"encrypt_ms": "43-52", "verify_ms": "88-106", "ballot_bytes": 42_500}
STRAIGHTFORWARD_RBCL = {"encrypt_ms": 1.4, "verify_ms": 1.65}
GOALS = {"encrypt_ms": 1.0, "verify_ms": 1.2, "stored_ballot_bytes": 1536}


def per_call_us(fn: Callable[[], object], number: int) -> float:
    """Best of REPEATS runs, in microseconds per call (the least disturbed by other load)."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return min(runs) * 1e6


def best_and_median_us(fn: Callable[[], object], number: int) -> tuple[float, float]:
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return min(runs) * 1e6, statistics.median(runs) * 1e6


@dataclass(frozen=True, slots=True)
class Primitives:
    libsodium_var_mult_us: float
    base_mult_us: float
    table_mult_us: float
    double_mult_us: float
    add_us: float
    decode_us: float
    encode_us: float
    challenge_us: float


def measure_primitives() -> Primitives:
    k = group.random_scalar()
    s = group.encode_scalar(k)
    p = group.base_mult(group.random_scalar())
    element, table = decaf.Element.decode(p), decaf.Table(decaf.Element.decode(p))
    parts = (ELECTION_ID, b"v" * 32, 0, "contest", 3, *([p] * 8), 0, 1)
    return Primitives(
        libsodium_var_mult_us=per_call_us(lambda: rbcl.crypto_scalarmult_ristretto255(s, p), 2000),
        base_mult_us=per_call_us(lambda: decaf.base_mult(k), 2000),
        table_mult_us=per_call_us(lambda: table.mult(k), 2000),
        double_mult_us=per_call_us(lambda: decaf.base_double_mult_vartime(k, element, k), 2000),
        add_us=per_call_us(lambda: element + element, 2000),
        decode_us=per_call_us(lambda: decaf.Element.decode(p), 2000),
        encode_us=per_call_us(element.encode, 2000),
        challenge_us=per_call_us(
            lambda: transcript.challenge(b"votestore/v1/ballot/selection", *parts), 2000
        ),
    )


def vote_for_one(min_selections: int) -> election_pb2.ElectionCreate:
    d = election_pb2.ElectionCreate(election_id=ELECTION_ID, title="bench")
    d.contests.add(
        id="mayor",
        choices=[election_pb2.Choice(id=f"cand-{k}") for k in range(4)],
        min_selections=min_selections,
        max_selections=1,
    )
    return d


def bench_ballot(p: Primitives, min_selections: int, count: int) -> dict[str, object]:
    """Encrypt and verify `count` ballots; bounds for n = 4 choices and sum range width w:
    encrypt: per choice 6 base + 3 table (alpha, g^m, key^r, and per branch g^u key^u g^(dc): every
    branch makes the same calls, the real one with dc = 0, so nothing branches on the plaintext);
    sum proof w * (2 base + 1 table);
    verify: per 0/1 proof 4 double + 2 table (per branch a = g^v alpha^-c, b = key^v g^(kc)
    beta^-c), sum proof w * (2 double + 1 table)."""
    definition = vote_for_one(min_selections)
    width = 1 - min_selections + 1
    key = group.base_mult(group.random_scalar())
    voter = bytes(nacl.signing.SigningKey.generate().verify_key)
    ballots = [
        ballot.encrypt_ballot(ELECTION_ID, definition, key, [[i % 4]], voter=voter) for i in range(count)
    ]
    picks = iter(range(10**9))
    encrypt, encrypt_median = best_and_median_us(
        lambda: ballot.encrypt_ballot(ELECTION_ID, definition, key, [[next(picks) % 4]], voter=voter), count
    )
    items = iter(ballots * (REPEATS + 1))
    verify, verify_median = best_and_median_us(
        lambda: ballot.verify_ballot(ELECTION_ID, definition, key, next(items), voter=voter), count
    )
    n = 4
    enc_bound = (6 * n + 2 * width) * p.base_mult_us + (3 * n + width) * p.table_mult_us
    ver_bound = (4 * n + 2 * width) * p.double_mult_us + (2 * n + width) * p.table_mult_us
    # The floor: the bound plus what the proof form cannot avoid around the multiplications:
    # decoding the ciphertexts, encoding each commitment for its challenge, the additions, hashing.
    ver_floor = (
        ver_bound
        + 2 * n * p.decode_us
        + (4 * n + 2 * width + 2) * p.encode_us
        + (4 * n + width) * p.add_us
        + (n + 1) * p.challenge_us
    )
    enc_floor = (
        enc_bound + (6 * n + 2 + 2 * width) * p.encode_us + (4 * n) * p.add_us + (n + 1) * p.challenge_us
    )
    return {
        "contest": f"1 contest x 4 choices, select {min_selections}..1",
        "encrypt_us": round(encrypt, 1),
        "verify_us": round(verify, 1),
        "encrypt_median_us": round(encrypt_median, 1),
        "verify_median_us": round(verify_median, 1),
        "encrypt_bound_us": round(enc_bound, 1),
        "verify_bound_us": round(ver_bound, 1),
        "encrypt_ratio_to_bound": round(encrypt / enc_bound, 2),
        "verify_ratio_to_bound": round(verify / ver_bound, 2),
        "encrypt_api_floor_us": round(enc_floor, 1),
        "verify_api_floor_us": round(ver_floor, 1),
        "encrypt_ratio_to_api_floor": round(encrypt / enc_floor, 2),
        "verify_ratio_to_api_floor": round(verify / ver_floor, 2),
        "ballot_bytes": len(ballots[0].SerializeToString()),
        "stored_ballot_bytes": stored_bytes(ballots[0]),
    }


def stored_bytes(b: election_pb2.Ballot) -> int:
    """The ballot as the ledger keeps it: the SignedTx envelope (Tx body, signer, signature)."""
    body = election_pb2.Tx(ballot=b).SerializeToString()
    signer = nacl.signing.SigningKey.generate()
    signed = election_pb2.SignedTx(
        body=body, signer=bytes(signer.verify_key), signature=signer.sign(body).signature
    )
    return len(signed.SerializeToString())


def bench_count(ballots: int, choices: int) -> dict[str, object]:
    """Decrypt the aggregate of `ballots` ballots (counts spread over the choices) with 3 of 5."""
    pairs = [dkg.new_trustee(f"t{i}", i) for i in range(1, 6)]
    trustees = [pub for _, pub in pairs]
    deals = [dkg.make_deal(CHAIN_ID, ELECTION_ID, trustees, 3, s.index) for s, _ in pairs]
    shares = {
        s.index: dkg.secret_share(
            [dkg.open_share(ELECTION_ID, trustees, d, s.index, s.enc_secret) for d in deals]
        )
        for s, _ in pairs
    }
    key = dkg.election_key(deals)
    counts = [ballots // choices + (1 if k < ballots % choices else 0) for k in range(choices)]
    aggregate = [elgamal.to_pb(elgamal.encrypt(key, c, group.random_scalar())) for c in counts]
    parts = {i: decryption.partial_decrypt(ELECTION_ID, i, shares[i], aggregate) for i in (1, 3, 5)}
    dlog._baby_steps.cache_clear()
    start = time.perf_counter()
    got = decryption.combine(ELECTION_ID, aggregate, parts, max_count=ballots)
    elapsed = time.perf_counter() - start
    assert got == counts, (got, counts)
    return {"ballots": ballots, "choices": choices, "trustees": "3 of 5", "combine_s": round(elapsed, 3)}


def bench_keygen(trustees: int, threshold: int) -> dict[str, object]:
    """A deal of `threshold` commitments with their Schnorr proofs and `trustees` encrypted shares:
    made once per trustee, checked (form and proofs) once per node. No ballot carries or checks
    any of it: key generation adds nothing per ballot."""
    publics = [dkg.new_trustee(f"t{i}", i)[1] for i in range(1, trustees + 1)]
    deal = dkg.make_deal(CHAIN_ID, ELECTION_ID, publics, threshold, 1)
    make = per_call_us(lambda: dkg.make_deal(CHAIN_ID, ELECTION_ID, publics, threshold, 1), 20)
    form = per_call_us(lambda: dkg.check_deal_form(ELECTION_ID, publics, threshold, deal), 200)
    proofs_us = per_call_us(lambda: dkg.check_deal_proofs(CHAIN_ID, deal), 200)
    return {
        "deal": f"{threshold} of {trustees}",
        "make_deal_us": round(make, 1),
        "check_deal_form_us": round(form, 1),
        "check_deal_proofs_us": round(proofs_us, 1),
        "deal_bytes": len(deal.SerializeToString()),
        "per_ballot_us": 0.0,
    }


def bench_stateless_tx(count: int) -> dict[str, object]:
    """A node's whole stateless check of a signed vote-for-1 ballot transaction, as its verify
    worker runs it: envelope decode (canonical form included), signature, the identity
    provider's attestation, proofs; and the attestation check alone, timed in the same run, so
    the check as it was before attestations is this minus that."""
    definition = vote_for_one(1)
    definition.trustees.add(name="t1", sign_key=bytes(32), enc_key=group.base_mult(7))
    definition.threshold = 1
    provider = nacl.signing.SigningKey(bytes(range(1, 33)))
    definition.identity_provider = bytes(provider.verify_key)
    key = group.base_mult(group.random_scalar())
    params = ElectionParams(definition, key)
    secret = bytes(range(32))
    attest = attestation.local_attester(provider, CHAIN_ID, ELECTION_ID)
    raws = [
        txbuild.ballot(CHAIN_ID, ELECTION_ID, definition, key, secret, [[i % 4]], attest)
        for i in range(min(count, 50))
    ]
    assert verify_tx_stateless(CHAIN_ID, raws[0], params).code == election_pb2.OK
    items = iter(raws * (count * (REPEATS + 1)))
    best, median = best_and_median_us(lambda: verify_tx_stateless(CHAIN_ID, next(items), params), count)
    decoded = [election_pb2.SignedTx.FromString(raw) for raw in raws]
    bodies = [(e.signer, election_pb2.Tx.FromString(e.body).ballot) for e in decoded]
    assert attestation.problem(definition.identity_provider, CHAIN_ID, *bodies[0]) is None
    checks = iter(bodies * (count * (REPEATS + 1)))

    def check_attestation() -> None:
        voter, body = next(checks)
        attestation.problem(definition.identity_provider, CHAIN_ID, voter, body)

    attest_best, attest_median = best_and_median_us(check_attestation, count)
    return {
        "verify_tx_stateless_us": round(best, 1),
        "verify_tx_stateless_median_us": round(median, 1),
        "attestation_check_us": round(attest_best, 1),
        "attestation_check_median_us": round(attest_median, 1),
        "without_attestation_us": round(best - attest_best, 1),
    }


def bench_parallel(workers: int, count: int) -> dict[str, object]:
    """Throughput of verify_ballots_parallel on a process pool of `workers`."""
    definition = vote_for_one(1)
    key = group.base_mult(group.random_scalar())
    items = [
        (ballot.encrypt_ballot(ELECTION_ID, definition, key, [[i % 4]]).SerializeToString(), b"")
        for i in range(count)
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        ballot.verify_ballots_parallel(pool, ELECTION_ID, definition, key, items[: workers * 2])  # warm up
        start = time.perf_counter()
        reasons = ballot.verify_ballots_parallel(pool, ELECTION_ID, definition, key, items)
        elapsed = time.perf_counter() - start
    assert reasons == [None] * count
    return {"workers": workers, "ballots": count, "ballots_per_s": round(count / elapsed)}


def versus(rev: str, rounds: int, ballots: int, out: Path | None) -> None:
    """Old and new alternated in child processes (bench/crypto_versus.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.crypto_versus import compare, report

    result = compare(rev, rounds, ballots)
    print(report(result))
    out = out or Path(__file__).parent / "results" / "crypto_versus.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=300, help="ballots per timing run")
    parser.add_argument("--count-ballots", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="also time verify_ballots_parallel")
    parser.add_argument("--out", type=Path, default=None, help="JSON result (default bench/results/)")
    parser.add_argument("--against", metavar="REV", help="time this checkout against commit REV instead")
    parser.add_argument("--rounds", type=int, default=6, help="with --against: old/new pairs to run")
    args = parser.parse_args()
    if args.against:
        versus(args.against, args.rounds, args.ballots, args.out)
        return
    args.out = args.out or Path(__file__).parent / "results" / "crypto.json"

    prim = measure_primitives()
    exact = bench_ballot(prim, 1, args.ballots)
    blank_ok = bench_ballot(prim, 0, args.ballots)
    count = bench_count(args.count_ballots, 4)
    keygen = bench_keygen(5, 3)
    stateless_tx = bench_stateless_tx(args.ballots)
    parallel = bench_parallel(args.workers, args.ballots * 4) if args.workers else None

    print("primitive                                    us/call")
    for name, value in [
        ("libsodium variable-base scalar mult", prim.libsodium_var_mult_us),
        ("libdecaf base mult g^k", prim.base_mult_us),
        ("libdecaf key-table mult K^k", prim.table_mult_us),
        ("libdecaf g^a P^b, variable time", prim.double_mult_us),
        ("libdecaf point addition", prim.add_us),
        ("libdecaf point decode + validate", prim.decode_us),
        ("libdecaf point encode", prim.encode_us),
        ("Fiat-Shamir challenge (SHA-512)", prim.challenge_us),
    ]:
        print(f"  {name:42s} {value:8.2f}")
    print()
    heads = " ".join(
        f"{h:>{w}s}" for h, w in [("us", 8), ("bound us", 9), ("ratio", 6), ("floor us", 9), ("ratio", 6)]
    )
    heads += f" {'goal us':>8s} {'median':>8s}"
    print(f"{'ballot (best of 5 runs)':34s} {heads}")
    for row in (exact, blank_ok):
        for op, goal in (("encrypt", GOALS["encrypt_ms"]), ("verify", GOALS["verify_ms"])):
            print(
                f"  {str(row['contest']) + ' ' + op:32s} {row[op + '_us']:8.1f} "
                f"{row[op + '_bound_us']:9.1f} {row[op + '_ratio_to_bound']:6.2f} "
                f"{row[op + '_api_floor_us']:9.1f} {row[op + '_ratio_to_api_floor']:6.2f} {goal * 1000:8.0f} "
                f"{row[op + '_median_us']:8.1f}"
            )
        sizes = f"{row['ballot_bytes']:8d} {row['stored_ballot_bytes']:9d}"
        print(f"  {'  bytes: ballot / stored SignedTx':32s} {sizes}")
    print()
    shape = f"{count['ballots']:,} ballots x {count['choices']} choices"
    print(f"count {shape}, 3 of 5 trustees: combine {count['combine_s']} s")
    print(
        "signed ballot tx, stateless check (envelope, signature, attestation, proofs): "
        f"{stateless_tx['verify_tx_stateless_us']} us best, "
        f"{stateless_tx['verify_tx_stateless_median_us']} us median; of it the attestation "
        f"{stateless_tx['attestation_check_us']} us best ({stateless_tx['attestation_check_median_us']} "
        f"median), so {stateless_tx['without_attestation_us']} us without it"
    )
    print(
        f"key generation, deal {keygen['deal']}: make {keygen['make_deal_us']} us, check form "
        f"{keygen['check_deal_form_us']} us + proofs {keygen['check_deal_proofs_us']} us, "
        f"{keygen['deal_bytes']} bytes; per ballot {keygen['per_ballot_us']} us"
    )
    if parallel:
        print(
            f"verify_ballots_parallel, {parallel['workers']} processes: {parallel['ballots_per_s']} ballots/s"
        )
    print(f"reference: ElectionGuard 1.4 {ELECTIONGUARD}; straightforward rbcl {STRAIGHTFORWARD_RBCL}")

    result = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # other work disturbs the figures
        },
        "primitives_us": {name: round(value, 2) for name, value in asdict(prim).items()},
        "ballot_vote_for_one": exact,
        "ballot_vote_for_one_blank_allowed": blank_ok,
        "count": count,
        "stateless_ballot_tx": stateless_tx,
        "key_generation": keygen,
        "parallel_verify": parallel,
        "goals": GOALS,
        "references": {"electionguard_1_4": ELECTIONGUARD, "straightforward_rbcl": STRAIGHTFORWARD_RBCL},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus; wrote {args.out}")


if __name__ == "__main__":
    main()
