"""What a node stored, held against what the verifier replayed: per transaction result, per
election the state the node publishes, and, from a stopped node's store, every state record.
Pure functions: records in, (passes, discrepancies) out; the Verifier says which node and height
they belong to.

A discrepancy is `(check, record, detail)`: the check it fails, the record it names (a transaction
by hash and kind, an election by id), and what differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from election.state_keys import describe
from proto.votestore.v1 import election_pb2
from tools.verify.findings import HASH_PREFIX_CHARS, Check
from votestore.encoding import canonical, decode_signed_tx, tx_hash, tx_kind
from votestore.errors import DecodeError

Discrepancy = tuple[Check, str, str]


def short(digest: bytes) -> str:
    return digest.hex()[:HASH_PREFIX_CHARS]


def tx_record(raw: bytes) -> str:
    try:
        _, tx = decode_signed_tx(raw)
        kind = tx_kind(tx)
    except DecodeError:
        kind = "undecodable"
    return f"tx {short(tx_hash(raw))} ({kind})"


def results(
    txs: Sequence[bytes],
    replayed: Sequence[election_pb2.TxResult],
    stored: Sequence[election_pb2.TxResult],
) -> tuple[int, list[Discrepancy]]:
    """The stored result of each transaction against the replayed one."""
    if len(stored) != len(replayed):
        return 0, [(Check.REPLAY, "results", f"{len(stored)} results for {len(txs)} transactions")]
    passed, found = 0, []
    for index, (ours, theirs) in enumerate(zip(replayed, stored, strict=True)):
        if canonical(ours) == canonical(theirs):
            passed += 1
            continue
        detail = (
            f"stored {election_pb2.ResultCode.Name(theirs.code)}, replay gives "
            f"{election_pb2.ResultCode.Name(ours.code)} ({ours.detail[:80]})"
        )
        found.append(
            (classify(txs[index], theirs, ours), f"{tx_record(txs[index])} at index {index}", detail)
        )
    return passed, found


def published_state(
    replayed: Iterable[election_pb2.ElectionState], served: Iterable[election_pb2.ElectionState]
) -> tuple[int, list[Discrepancy]]:
    """Every election the node publishes against the replayed one, field by field."""
    mine = {r.definition.election_id: r for r in replayed}
    theirs_by_id = {r.definition.election_id: r for r in served}
    passed, found = 0, []
    for election_id in sorted(set(mine) | set(theirs_by_id)):
        record = f"election {election_id}"
        ours, theirs = mine.get(election_id), theirs_by_id.get(election_id)
        if ours is None or theirs is None:
            missing = "not served by the node" if theirs is None else "unknown to the replay"
            found.append((Check.PUBLISHED_STATE, record, missing))
            continue
        differing = _differing_fields(ours, theirs)
        if "result" in differing:
            detail = f"published result {_counts(theirs)} differs from the replayed {_counts(ours)}"
            found.append((Check.RESULT, record, detail))
        elif differing:
            found.append((Check.PUBLISHED_STATE, record, "differs in " + ", ".join(differing)))
        else:
            passed += 1
    return passed, found


MAX_RECORD_DISCREPANCIES = 100
"""State records named one by one; past this, one discrepancy says how many more differ."""


def state_records(
    replayed: Mapping[bytes, bytes], stored: Iterable[tuple[bytes, bytes]]
) -> tuple[int, list[Discrepancy]]:
    """Every application-state record a node's store holds against the replayed state, key by
    key: a record that differs, one the store lacks and one the replay never wrote are each
    named (keyspace, election, voter or trustee: election.state_keys.describe)."""
    theirs = dict(stored)
    passed, differing = 0, []
    for key in sorted(set(replayed) | set(theirs)):
        ours, stored_value = replayed.get(key), theirs.get(key)
        if ours == stored_value:
            passed += 1
        elif stored_value is None:
            differing.append((key, "missing from the node's store"))
        elif ours is None:
            differing.append((key, "in the node's store, never written by the replay"))
        else:
            differing.append((key, "differs from the replayed record"))
    found: list[Discrepancy] = [
        (Check.PUBLISHED_STATE, f"state record {describe(key)}", detail)
        for key, detail in differing[:MAX_RECORD_DISCREPANCIES]
    ]
    if len(differing) > MAX_RECORD_DISCREPANCIES:
        more = len(differing) - MAX_RECORD_DISCREPANCIES
        found.append((Check.PUBLISHED_STATE, "state records", f"{more} more differ"))
    return passed, found


def _differing_fields(ours: election_pb2.ElectionState, theirs: election_pb2.ElectionState) -> list[str]:
    names = {f.name for f, _ in ours.ListFields()} | {f.name for f, _ in theirs.ListFields()}
    return sorted(n for n in names if _only(ours, n) != _only(theirs, n))


def _only(record: election_pb2.ElectionState, name: str) -> bytes:
    """The canonical bytes of one field of the record, alone."""
    probe = election_pb2.ElectionState()
    probe.CopyFrom(record)
    for field, _ in record.ListFields():
        if field.name != name:
            probe.ClearField(field.name)  # type: ignore[arg-type]
    return canonical(probe)


def _counts(record: election_pb2.ElectionState) -> str:
    return "; ".join(f"{c.contest_id}={list(c.counts)}" for c in record.result.contests) or "none"


def classify(raw: bytes, stored: election_pb2.TxResult, replayed: election_pb2.TxResult) -> Check:
    """Name the rule a wrongly accepted transaction broke, where one has its own check."""
    if stored.code != election_pb2.OK:
        return Check.REPLAY
    try:
        _, tx = decode_signed_tx(raw)
    except DecodeError:
        return Check.REPLAY
    kind = tx_kind(tx)
    if kind == "ballot" and replayed.code == election_pb2.BAD_ATTESTATION:
        return Check.ATTESTATION
    if kind == "roll_append" and replayed.code == election_pb2.NOT_AUTHORIZED:
        return Check.ROLL_AUTHORITY
    if kind == "ballot" and replayed.code in (
        election_pb2.BAD_PROOF,
        election_pb2.BAD_SIGNATURE,
        election_pb2.MALFORMED,
    ):
        return Check.BALLOT
    if kind == "dkg_deal" and replayed.code in (
        election_pb2.BAD_PROOF,
        election_pb2.MALFORMED,
        election_pb2.OUTSIDE_WINDOW,
    ):
        return Check.KEY_GENERATION
    if kind == "election_open" and replayed.code in (
        election_pb2.KEYGEN_PENDING,
        election_pb2.KEYGEN_INCOMPLETE,
    ):
        return Check.KEY_GENERATION
    if kind == "ballot" and replayed.code == election_pb2.AUDITED:
        return Check.AUDITED_BALLOT
    if kind == "audited_ballot" and replayed.code in (
        election_pb2.BAD_PROOF,
        election_pb2.BAD_SIGNATURE,
        election_pb2.MALFORMED,
        election_pb2.ALREADY_VOTED,
        election_pb2.DUPLICATE,
    ):
        return Check.AUDITED_BALLOT
    if kind == "roll_append" and replayed.code == election_pb2.WRONG_PHASE:
        return Check.ROLL_FROZEN
    if kind == "decryption_share" and replayed.code in (election_pb2.BAD_PROOF, election_pb2.BAD_SHARE):
        return Check.DECRYPTION_SHARE
    return Check.REPLAY
