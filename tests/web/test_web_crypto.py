"""The JavaScript ballot cryptography (web/src/crypto) and the Python one agree, both ways.

- Python -> JS: web/test/vectors/ballots.json is what tests/web/make_vectors.py writes today, and
  node's test runner reproduces every ballot, transaction and tracking code in it byte for byte.
- JS -> Python: ballots the JavaScript code makes for seeded random definitions pass the election
  rules' stateless check (signature, canonical form, every proof) and are, scalar for scalar, the
  bytes the Python code makes from the same draws.
- A property test (hypothesis) over random definitions and choices drives the JS through its CLI.
"""

from __future__ import annotations

import random
import re
import subprocess
from typing import Any

import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from election.stateless import ElectionParams, verify_tx_stateless
from proto.votestore.v1 import election_pb2
from tests.web import make_vectors
from tests.web.draws import draws_needed, replaying
from tests.web.node_runner import NODE_TIMEOUT_S, WEB, js_ballots, node, run_node_tests
from votestore import txbuild
from votestore.crypto import attestation, group
from votestore.crypto.ballot import encoded_ballot_bytes, verify_ballot
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import canonical, decode_signed_tx

Contests = list[tuple[int, int, int]]


def test_vectors_file_is_what_python_makes_now() -> None:
    committed = make_vectors.VECTORS.read_text(encoding="utf-8")
    assert committed == make_vectors.render(), "stale: run `.venv/bin/python -m tests.web.make_vectors`"


def test_node_reproduces_python_vectors() -> None:
    proc = run_node_tests()
    out = proc.stdout
    passed = re.search(r"^# pass (\d+)$", out, re.M)
    failed = re.search(r"^# fail (\d+)$", out, re.M)
    assert proc.returncode == 0 and failed and failed.group(1) == "0", out[-4000:] + proc.stderr[-2000:]
    assert passed and int(passed.group(1)) >= 3 * len(make_vectors.CASES), out[-2000:]


def _request(seed: int, contests: Contests, chosen: list[list[int]]) -> dict[str, Any]:
    rng = random.Random(seed)
    election_id = f"e-{seed}"
    return {
        "chain_id": f"chain-{seed % 7}",
        "election_id": election_id,
        "definition": canonical(make_vectors.definition(election_id, contests)).hex(),
        "election_key": group.base_mult(rng.randrange(1, group.L)).hex(),
        "credential_secret": rng.randbytes(32).hex(),
        "selections": chosen,
        "seed": seed,
        "provider_seed": make_vectors.PROVIDER_SEED.hex(),
    }


def _attester(request: dict[str, Any]) -> attestation.Attester:
    provider = nacl.signing.SigningKey(bytes.fromhex(request["provider_seed"]))
    return attestation.local_attester(provider, request["chain_id"], request["election_id"])


def _check_js_ballot(request: dict[str, Any], result: dict[str, Any], contests: Contests) -> None:
    """The JS transaction passes the election rules and equals Python's from the same draws."""
    assert "error" not in result, result
    raw = bytes.fromhex(result["tx"])
    definition = election_pb2.ElectionCreate.FromString(bytes.fromhex(request["definition"]))
    key = bytes.fromhex(request["election_key"])
    params = ElectionParams(definition, key)
    verdict = verify_tx_stateless(request["chain_id"], raw, params)
    assert verdict.code == election_pb2.OK, verdict
    envelope, tx = decode_signed_tx(raw)
    verify_ballot(request["election_id"], definition, key, tx.ballot, voter=envelope.signer)
    assert len(canonical(tx.ballot)) == encoded_ballot_bytes(definition)
    secret = bytes.fromhex(request["credential_secret"])
    assert envelope.signer == bytes(derive_credential_key(secret, request["election_id"]).verify_key)
    draws = [group.decode_scalar(bytes.fromhex(h)) for h in result["draws"]]
    assert len(draws) == draws_needed(contests)
    with replaying(draws) as drawn:
        python_raw = txbuild.ballot(
            request["chain_id"],
            request["election_id"],
            definition,
            key,
            secret,
            request["selections"],
            _attester(request),
        )
    assert drawn == draws
    assert python_raw == raw


def _random_case(rng: random.Random) -> tuple[Contests, list[list[int]]]:
    contests: Contests = []
    chosen: list[list[int]] = []
    for _ in range(rng.randint(1, 3)):
        n = rng.randint(1, 6)
        lo = rng.randint(0, n)
        hi = rng.randint(lo, n)
        contests.append((n, lo, hi))
        chosen.append(rng.sample(range(n), rng.randint(lo, hi)))
    return contests, chosen


def test_js_ballots_for_seeded_definitions_verify_in_python() -> None:
    rng = random.Random(2326)
    cases = [_random_case(rng) for _ in range(12)]
    requests = [_request(100 + i, contests, chosen) for i, (contests, chosen) in enumerate(cases)]
    for request, result, (contests, _) in zip(requests, js_ballots(requests), cases, strict=True):
        _check_js_ballot(request, result, contests)


def test_a_changed_js_ballot_is_refused() -> None:
    """The check above bites: one byte of a proof changed and the rules refuse the transaction."""
    contests: Contests = [(3, 1, 1)]
    request = _request(7, contests, [[1]])
    (result,) = js_ballots([request])
    raw = bytearray(bytes.fromhex(result["tx"]))
    raw[-100] ^= 0x01  # inside the body: the signature no longer covers it
    params = ElectionParams(
        election_pb2.ElectionCreate.FromString(bytes.fromhex(request["definition"])),
        bytes.fromhex(request["election_key"]),
    )
    assert verify_tx_stateless(request["chain_id"], bytes(raw), params).code != election_pb2.OK


@pytest.mark.parametrize(
    ("contests", "chosen"),
    [
        ([(3, 1, 1)], [[0, 1]]),  # over-vote
        ([(3, 1, 2)], [[]]),  # under-vote
        ([(3, 0, 3)], [[1, 1]]),  # a choice twice
        ([(3, 0, 3)], [[3]]),  # no such choice
        ([(3, 0, 3)], [[0], [1]]),  # more contests than the definition
    ],
)
def test_js_refuses_what_python_refuses(contests: Contests, chosen: list[list[int]]) -> None:
    request = _request(11, contests, chosen)
    (result,) = js_ballots([request])
    assert "error" in result, result
    definition = make_vectors.definition(request["election_id"], contests)
    with pytest.raises(ValueError):
        txbuild.ballot(
            request["chain_id"],
            request["election_id"],
            definition,
            bytes.fromhex(request["election_key"]),
            bytes.fromhex(request["credential_secret"]),
            chosen,
            _attester(request),
        )


@st.composite
def _definitions(draw: st.DrawFn) -> tuple[Contests, list[list[int]]]:
    contests: Contests = []
    chosen: list[list[int]] = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 8))
        lo = draw(st.integers(0, n))
        hi = draw(st.integers(lo, n))
        picked = draw(st.lists(st.integers(0, n - 1), min_size=lo, max_size=hi, unique=True))
        contests.append((n, lo, hi))
        chosen.append(picked)
    return contests, chosen


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_definitions(), seed=st.integers(0, 2**32))
def test_property_js_ballot_equals_python_for_random_definitions(
    case: tuple[Contests, list[list[int]]], seed: int
) -> None:
    contests, chosen = case
    request = _request(seed, contests, chosen)
    (result,) = js_ballots([request])
    _check_js_ballot(request, result, contests)


def test_js_types_check() -> None:
    """tsc --strict over the JSDoc types of web/src/crypto and the page, web/src/app (web/tsconfig.json),
    nothing emitted."""
    proc = subprocess.run(
        [node(), "node_modules/typescript/bin/tsc", "-p", "."],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
