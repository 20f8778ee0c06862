"""Write web/test/vectors/ballots.json: Python-made ballots the JavaScript code must reproduce.

Each case fixes every input of `txbuild.ballot` — chain id, definition, election key, credential
secret, choices — and the scalars the prover draws (tests/web/draws.py), and records what the
Python code makes of them: the voter's key, the Ballot bytes, the signed transaction bytes and its
tracking code. `points` lists 32-byte strings with group.decode_point's verdict, which the
JavaScript decoder must share. tests/web/test_vectors.py checks the committed file is what this
script writes now, so a change to the Python crypto shows up as a stale file, not a silent drift.

Run: .venv/bin/python -m tests.web.make_vectors
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import nacl.signing

from proto.votestore.v1 import election_pb2
from tests.web.draws import draws_needed, replaying, seeded_scalars
from votestore import txbuild
from votestore.crypto import attestation, group
from votestore.crypto.credential import derive_credential_key
from votestore.encoding import canonical, decode_signed_tx, tx_hash
from votestore.errors import DecodeError

PROVIDER_SEED = bytes(range(32, 64))
"""The identity provider's key in the vectors: its attestation is part of every ballot transaction."""
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "web" / "test" / "vectors" / "ballots.json"

# (name, election id, chain id, contests as (choices, min, max), choices per contest)
CASES: list[tuple[str, str, str, list[tuple[int, int, int]], list[list[int]]]] = [
    ("one-of-four", "e-2026-web", "web-chain", [(4, 1, 1)], [[2]]),
    ("blank-allowed", "e-2026-web", "web-chain", [(3, 0, 1)], [[]]),
    ("approval", "e-2026-web", "web-chain", [(5, 0, 5)], [[0, 1, 3, 4]]),
    ("all-of-n", "e-2026-web", "web-chain", [(3, 3, 3)], [[2, 0, 1]]),
    ("three-contests", "e-2026-web", "web-chain", [(2, 1, 1), (4, 1, 2), (6, 0, 3)], [[1], [0, 3], []]),
    ("unicode-ids", "선거-2026 서울", "체인-1", [(3, 1, 2)], [[0, 2]]),
]


def definition(election_id: str, contests: list[tuple[int, int, int]]) -> election_pb2.ElectionCreate:
    provider = bytes(nacl.signing.SigningKey(PROVIDER_SEED).verify_key)
    d = election_pb2.ElectionCreate(election_id=election_id, title="web vectors", identity_provider=provider)
    for ci, (n, lo, hi) in enumerate(contests):
        d.contests.add(
            id=f"c{ci}" if ci % 2 == 0 else f"계약-{ci}",
            title=f"contest {ci}",
            choices=[election_pb2.Choice(id=f"c{ci}-{k}", label=f"choice {k}") for k in range(n)],
            min_selections=lo,
            max_selections=hi,
        )
    return d


def _unattested(ballot: election_pb2.Ballot) -> election_pb2.Ballot:
    """The encrypted ballot as the voter's device makes it, before the identity provider attests it."""
    bare = election_pb2.Ballot()
    bare.CopyFrom(ballot)
    bare.ClearField("attestation")
    return bare


def ballot_case(
    seed: int,
    name: str,
    election_id: str,
    chain_id: str,
    contests: list[tuple[int, int, int]],
    chosen: list[list[int]],
) -> dict[str, Any]:
    rng = random.Random(seed)
    election_key = group.base_mult(rng.randrange(1, group.L))
    secret = rng.randbytes(32)
    d = definition(election_id, contests)
    scalars = seeded_scalars(seed, draws_needed(contests))
    with replaying(scalars) as drawn:
        attest = attestation.local_attester(nacl.signing.SigningKey(PROVIDER_SEED), chain_id, election_id)
        raw = txbuild.ballot(chain_id, election_id, d, election_key, secret, chosen, attest)
    assert drawn == scalars, "the ballot drew a different number of scalars than draws_needed says"
    _, tx = decode_signed_tx(raw)
    return {
        "name": name,
        "chain_id": chain_id,
        "election_id": election_id,
        "definition": canonical(d).hex(),
        "election_key": election_key.hex(),
        "credential_secret": secret.hex(),
        "selections": chosen,
        "draws": [group.encode_scalar(k).hex() for k in scalars],
        "voter_key": bytes(derive_credential_key(secret, election_id).verify_key).hex(),
        "ballot": canonical(_unattested(tx.ballot)).hex(),
        "provider_seed": PROVIDER_SEED.hex(),
        "attestation": tx.ballot.attestation.hex(),
        "tx": raw.hex(),
        "tracking_code": tx_hash(raw).hex(),
    }


def point_cases() -> list[dict[str, Any]]:
    """Encodings on both sides of decode_point's line: valid points, the identity, the top bit
    set, non-canonical field elements (>= p), negative s, and strings that name no point."""
    p = 2**255 - 19
    rng = random.Random(23)
    candidates = [group.base_mult(k) for k in (1, 2, 3, rng.randrange(1, group.L))]
    candidates.append(group.IDENTITY)
    candidates.append(bytes(group.base_mult(5)[:31]) + bytes([group.base_mult(5)[31] | 0x80]))
    candidates += [(p + k).to_bytes(32, "little") for k in (0, 1, 2)]  # non-canonical field elements
    candidates += [(p - 1).to_bytes(32, "little"), (1).to_bytes(32, "little")]  # negative s (odd)
    candidates += [rng.randbytes(32) for _ in range(8)]
    out = []
    for raw in candidates:
        for allow in (False, True):
            try:
                group.decode_point(raw, allow_identity=allow)
                verdict = True
            except DecodeError:
                verdict = False
            out.append({"bytes": raw.hex(), "allow_identity": allow, "valid": verdict})
    return out


def vectors() -> dict[str, Any]:
    return {
        "about": "made by tests/web/make_vectors.py; do not edit",
        "ballots": [ballot_case(1000 + i, *case) for i, case in enumerate(CASES)],
        "points": point_cases(),
    }


def render() -> str:
    return json.dumps(vectors(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    VECTORS.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS.relative_to(ROOT)}")
