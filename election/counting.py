"""Decryption shares and the result.

Trustees decrypt only the aggregate bound to the committed tally height (Helios issue 170: a
system that lets anyone decrypt a chosen subset exposes single voters). Each qualified trustee
posts one share; every part is checked against its verification key and the recorded aggregate;
the threshold-th valid share triggers the combination and the result is recorded once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from election import state_keys
from election.reasons import refuse
from election.tx_env import TxEnv
from election.view import StateView
from proto.votestore.v1 import election_pb2
from votestore.crypto import decryption
from votestore.encoding import canonical


def stored_share(view: StateView, election_id: str, trustee: int) -> election_pb2.DecryptionShare | None:
    raw = view.get(state_keys.decryption_share(election_id, trustee))
    return None if raw is None else election_pb2.DecryptionShare.FromString(raw)


def decryption_share(env: TxEnv, body: election_pb2.DecryptionShare) -> None:
    record = env.view.settled(env.election(body.election_id))
    env.require_phase(record, election_pb2.CLOSED)
    env.trustee(record, body.trustee)
    if body.trustee not in record.qualified_dealers:
        refuse(election_pb2.DISQUALIFIED, f"trustee {body.trustee} is not a qualified dealer")
    if body.tally_height != record.tally_height:
        refuse(
            election_pb2.BAD_SHARE,
            f"share for tally height {body.tally_height}, the aggregate is bound to {record.tally_height}",
        )
    if len(body.parts) != len(record.aggregate):
        refuse(election_pb2.BAD_SHARE, f"{len(body.parts)} parts for {len(record.aggregate)} ciphertexts")
    if env.view.get(state_keys.decryption_share(body.election_id, body.trustee)) is not None:
        refuse(election_pb2.DUPLICATE, f"trustee {body.trustee} already posted its share")
    env.require_stateless(record)
    key = env.view.get(state_keys.verification_key(body.election_id, body.trustee))
    assert key is not None, body.trustee
    for position, (ciphertext, part) in enumerate(zip(record.aggregate, body.parts, strict=True)):
        if not decryption.verify_partial(body.election_id, body.trustee, key, ciphertext, part):
            refuse(election_pb2.BAD_PROOF, f"part {position} fails its proof")

    env.view.put(
        state_keys.decryption_share(body.election_id, body.trustee),
        canonical(env.tx.decryption_share),
    )
    shares: dict[int, Sequence[election_pb2.PartialDecryption]] = {}
    for trustee in record.qualified_dealers:
        share = stored_share(env.view, body.election_id, trustee)
        if share is not None:
            shares[trustee] = share.parts
    if len(shares) == record.definition.threshold:
        _record_result(record, shares)
    env.view.touch(body.election_id)


def _record_result(
    record: election_pb2.ElectionState, shares: Mapping[int, Sequence[election_pb2.PartialDecryption]]
) -> None:
    """Combine exactly `threshold` verified shares; a failure here is a bug, not a refusal: every
    part was checked against a verification key derived from the qualified deals."""
    definition = record.definition
    assert len(shares) == definition.threshold, (len(shares), definition.threshold)
    counts = decryption.combine(definition.election_id, record.aggregate, shares, record.ballots)
    result = election_pb2.ElectionResult(
        election_id=definition.election_id,
        tally_height=record.tally_height,
        ballots_counted=record.ballots,
        trustees=sorted(shares),
    )
    at = 0
    for contest in definition.contests:
        width = len(contest.choices)
        result.contests.add(contest_id=contest.id, counts=counts[at : at + width])
        at += width
    assert at == len(counts), (at, len(counts))
    record.result.CopyFrom(result)
    record.phase = election_pb2.COUNTED
