"""Encrypted ballots: per choice an encryption of 0 or 1 with a 0/1 proof, per contest a proof
that the number of selections lies in [min, max].

The nonces live only inside `encrypt_ballot` and are dropped when it returns: the Ballot it gives
back holds ciphertexts and proofs only, so it may go on the ledger as is (ElectionGuard's lesson:
a ballot object that keeps its nonces must never be shared).

Every proof's statement binds a constant domain, the election id, the optional voter key (the
credential public key that signs the ballot, so a copied contest fails under another signer), the
election key, the contest's index and id, and the ciphertexts. `verify_ballot` is a top-level pure
function of bytes and protobufs so a process pool can run it (`verify_ballots_parallel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final

from proto.votestore.v1 import election_pb2
from votestore.crypto import decaf, elgamal, group, proofs
from votestore.crypto.errors import BallotInvalid
from votestore.crypto.group import L
from votestore.crypto.transcript import Part
from votestore.encoding import SIGNATURE_BYTES as ATTESTATION_BYTES
from votestore.errors import DecodeError

SELECTION_DOMAIN: Final = b"votestore/v1/ballot/selection"
SUM_DOMAIN: Final = b"votestore/v1/ballot/contest-sum"
MAX_CHOICES_PER_CONTEST: Final = 256  # bounds the work of one contest's proofs
PARALLEL_CHUNK_BALLOTS: Final = 32  # ballots sent to a worker process at once


def _check_contest_definition(contest: election_pb2.Contest) -> None:
    n = len(contest.choices)
    if not 1 <= n <= MAX_CHOICES_PER_CONTEST:
        raise ValueError(f"contest {contest.id!r}: {n} choices outside 1..{MAX_CHOICES_PER_CONTEST}")
    if not contest.min_selections <= contest.max_selections <= n:
        raise ValueError(f"contest {contest.id!r}: need min <= max <= {n} choices")


def _varint_bytes(n: int) -> int:
    return max(1, (n.bit_length() + 6) // 7)


def delimited_bytes(n: int) -> int:
    """A length-delimited field of n bytes, field number below 16 (one tag byte)."""
    return 1 + _varint_bytes(n) + n


def _string_bytes(text: str) -> int:
    size = len(text.encode())
    return delimited_bytes(size) if size else 0


def encoded_ballot_bytes(definition: election_pb2.ElectionCreate) -> int:
    """The exact size of the canonical encoding of a well-formed ballot for this definition:
    every point and scalar is 32 bytes and the identity provider's attestation 64, so the size
    depends on the definition alone. A node refuses a larger ballot before it verifies any proof
    (issue 18, attack 3)."""
    point = delimited_bytes(group.POINT_BYTES)
    ciphertext = delimited_bytes(2 * point)
    selection_proof = delimited_bytes(4 * point)
    size = _string_bytes(definition.election_id)
    for contest in definition.contests:
        branches = contest.max_selections - contest.min_selections + 1
        body = _string_bytes(contest.id) + len(contest.choices) * (ciphertext + selection_proof)
        size += delimited_bytes(body + delimited_bytes(2 * branches * point))
    return size + delimited_bytes(ATTESTATION_BYTES)


def _selection_context(
    election_id: str, voter: bytes, index: int, contest_id: str, choice: int
) -> tuple[Part, ...]:
    return (election_id, voter, index, contest_id, choice)


def _sum_context(
    election_id: str, voter: bytes, index: int, contest_id: str, cts: Sequence[elgamal.Ciphertext]
) -> tuple[Part, ...]:
    return (election_id, voter, index, contest_id, *(p for ct in cts for p in ct.pair))


def encrypt_ballot(
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    selections: Sequence[Sequence[int]],
    *,
    voter: bytes = b"",
    kept_nonces: list[list[int]] | None = None,
) -> election_pb2.Ballot:
    """Encrypt the chosen choice indices of each contest (in definition order) under the key.
    `kept_nonces`, for a ballot to be audited and never cast, receives each contest's nonces.

    Raises ValueError if a selection breaks the contest's rules, DecodeError if the key is bad.
    """
    key = group.decode_point(election_key)
    decaf.table_for(key)  # built once per key, before any secret is used
    if len(selections) != len(definition.contests):
        raise ValueError(f"{len(selections)} selections for {len(definition.contests)} contests")
    ballot = election_pb2.Ballot(election_id=election_id)
    for index, (contest, chosen) in enumerate(zip(definition.contests, selections, strict=True)):
        nonces = [group.random_scalar() for _ in contest.choices]
        ballot.contests.append(_encrypt_contest(election_id, voter, key, index, contest, chosen, nonces))
        if kept_nonces is not None:
            kept_nonces.append(nonces)
    return ballot


def _encrypt_contest(
    election_id: str,
    voter: bytes,
    key: bytes,
    index: int,
    contest: election_pb2.Contest,
    chosen: Sequence[int],
    nonces: Sequence[int],
) -> election_pb2.EncryptedContest:
    _check_contest_definition(contest)
    n = len(contest.choices)
    picked = set(chosen)
    if len(picked) != len(chosen) or not all(0 <= c < n for c in picked):
        raise ValueError(f"contest {contest.id!r}: choices must be distinct indices in 0..{n - 1}")
    if not contest.min_selections <= len(picked) <= contest.max_selections:
        raise ValueError(
            f"contest {contest.id!r}: {len(picked)} selections outside "
            f"{contest.min_selections}..{contest.max_selections}"
        )
    out = election_pb2.EncryptedContest(contest_id=contest.id)
    cts: list[elgamal.Ciphertext] = []
    for choice, nonce in enumerate(nonces):
        value = int(choice in picked)
        ct = elgamal.encrypt(key, value, nonce)
        context = _selection_context(election_id, voter, index, contest.id, choice)
        proof = proofs.prove_range(SELECTION_DOMAIN, context, key, ct, nonce, value, 0, 1)
        cts.append(ct)
        out.selections.append(elgamal.to_pb(ct))
        _fill_range(out.selection_proofs.add(), proof)
    total_nonce = sum(nonces) % L
    assert total_nonce != 0, "nonce sum zero: probability 2^-252"
    context = _sum_context(election_id, voter, index, contest.id, cts)
    proof = proofs.prove_range(
        SUM_DOMAIN,
        context,
        key,
        elgamal.sum_all(cts),
        total_nonce,
        len(picked),
        contest.min_selections,
        contest.max_selections,
    )
    _fill_range(out.sum_proof, proof)
    return out


def _fill_range(target: election_pb2.RangeProof, proof: proofs.RangeProof) -> None:
    challenges, responses = proofs.range_to_pb_fields(proof)
    target.challenges.extend(challenges)
    target.responses.extend(responses)


@dataclass(frozen=True, slots=True)
class _DecodedContest:
    index: int
    contest: election_pb2.Contest
    cts: list[elgamal.Ciphertext]
    selection_proofs: list[proofs.RangeProof]
    sum_proof: proofs.RangeProof


def verify_ballot(
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    ballot: election_pb2.Ballot,
    *,
    voter: bytes = b"",
) -> list[elgamal.Ciphertext]:
    """Raise BallotInvalid(reason) unless the ballot is well formed and every proof holds.

    All structure and decoding is checked first, so a malformed ballot costs no multiplication.
    Returns every selection's ciphertext as decoded (contests in order): points validated here,
    which the running tally can take without decoding them again.
    """
    key = group.decode_point(election_key)
    if ballot.election_id != election_id or definition.election_id != election_id:
        raise BallotInvalid("ballot is for another election")
    if len(ballot.contests) != len(definition.contests):
        raise BallotInvalid(f"{len(ballot.contests)} contests, definition has {len(definition.contests)}")
    decoded = [
        _decode_contest(index, contest, enc)
        for index, (contest, enc) in enumerate(zip(definition.contests, ballot.contests, strict=True))
    ]
    for d in decoded:
        _verify_contest(election_id, voter, key, d)
    return [ct for d in decoded for ct in d.cts]


def _decode_contest(
    index: int, contest: election_pb2.Contest, enc: election_pb2.EncryptedContest
) -> _DecodedContest:
    _check_contest_definition(contest)
    if enc.contest_id != contest.id:
        raise BallotInvalid(f"contest {index}: id {enc.contest_id!r}, expected {contest.id!r}")
    n = len(contest.choices)
    if len(enc.selections) != n or len(enc.selection_proofs) != n:
        raise BallotInvalid(f"contest {contest.id!r}: selections or proofs not one per choice ({n})")
    width = contest.max_selections - contest.min_selections + 1
    if len(enc.sum_proof.challenges) != width or len(enc.sum_proof.responses) != width:
        raise BallotInvalid(f"contest {contest.id!r}: sum proof needs {width} challenges and responses")
    for p in enc.selection_proofs:
        if len(p.challenges) != 2 or len(p.responses) != 2:
            raise BallotInvalid(f"contest {contest.id!r}: a selection proof needs 2 challenges and responses")
    try:
        cts = [elgamal.decode_elements(ct, allow_identity=False) for ct in enc.selections]
        sel = [proofs.range_from_fields(p.challenges, p.responses) for p in enc.selection_proofs]
        total = proofs.range_from_fields(enc.sum_proof.challenges, enc.sum_proof.responses)
    except DecodeError as e:
        raise BallotInvalid(f"contest {contest.id!r}: {e}") from e
    return _DecodedContest(index, contest, cts, sel, total)


def _verify_contest(election_id: str, voter: bytes, key: bytes, d: _DecodedContest) -> None:
    cid = d.contest.id
    for choice, (ct, proof) in enumerate(zip(d.cts, d.selection_proofs, strict=True)):
        context = _selection_context(election_id, voter, d.index, cid, choice)
        if not proofs.verify_range(SELECTION_DOMAIN, context, key, ct, 0, 1, proof):
            raise BallotInvalid(f"contest {cid!r}: selection {choice}: 0/1 proof fails")
    context = _sum_context(election_id, voter, d.index, cid, d.cts)
    lo, hi = d.contest.min_selections, d.contest.max_selections
    if not proofs.verify_range(SUM_DOMAIN, context, key, elgamal.sum_all(d.cts), lo, hi, d.sum_proof):
        raise BallotInvalid(f"contest {cid!r}: selection count proof fails")


def _verify_chunk(
    job: tuple[str, bytes, bytes, list[tuple[bytes, bytes]]],
) -> list[str | None]:
    """Worker entry point: everything arrives as bytes so it pickles cheaply."""
    election_id, definition_bytes, election_key, items = job
    definition = election_pb2.ElectionCreate.FromString(definition_bytes)
    reasons: list[str | None] = []
    for ballot_bytes, voter in items:
        try:
            verify_ballot(
                election_id,
                definition,
                election_key,
                election_pb2.Ballot.FromString(ballot_bytes),
                voter=voter,
            )
            reasons.append(None)
        except BallotInvalid as e:
            reasons.append(e.reason)
    return reasons


def verify_ballots_parallel(
    executor: Executor,
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    ballots: Sequence[tuple[bytes, bytes]],
) -> list[str | None]:
    """Verify serialized (ballot, voter key) pairs on a pool (e.g. ProcessPoolExecutor sized to the
    cores); returns, in order, None for a valid ballot or the reason it is invalid."""
    definition_bytes = definition.SerializeToString()
    items = list(ballots)
    jobs = [
        (election_id, definition_bytes, election_key, items[i : i + PARALLEL_CHUNK_BALLOTS])
        for i in range(0, len(items), PARALLEL_CHUNK_BALLOTS)
    ]
    return [reason for chunk in executor.map(_verify_chunk, jobs) for reason in chunk]
