"""The audited ballots an election's ledger holds (cast-or-audit, election/auditing.py), read from
a validator's committed blocks and opened again here: for `votestore ballot audited`.

A node keeps no list of them (state holds digests per voter only, for the never-cast check), so
this walks the chain's blocks: fine for an observer's command, not for a hot path. Each entry's
choices are the ones its nonces open it to here, not the ones it states; one that does not open
is listed with the reason (validators refuse such a ballot: seeing one means a faulty ledger,
which `votestore verify` names).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from proto.votestore.v1 import election_pb2
from votestore.client.node import NodeClient
from votestore.crypto.errors import BallotInvalid
from votestore.crypto.opening import open_ballot
from votestore.encoding import decode_signed_tx, tx_hash, tx_kind
from votestore.errors import DecodeError


@dataclass(frozen=True, slots=True)
class PublishedAudit:
    tracking_code: bytes
    height: int
    voter: bytes
    choices: dict[str, list[str]]
    """Per contest id, the choice ids the ballot's nonces open it to (empty if it does not open)."""
    problem: str | None
    """Why it does not open to the choices it states, or None."""


def published_audits(client: NodeClient, election_id: str) -> list[PublishedAudit]:
    """Every audited ballot of `election_id` committed with result OK, in ledger order."""
    record = client.election(election_id)
    last = client.status().height
    return [
        _opened(record, committed_height, raw, body, signer)
        for committed_height, raw, body, signer in _audits(client, election_id, last)
    ]


def _audits(
    client: NodeClient, election_id: str, last: int
) -> Iterator[tuple[int, bytes, election_pb2.AuditedBallot, bytes]]:
    height = 1
    while height <= last:
        got = height
        for committed in client.blocks(height, last):
            got = committed.block.header.height
            for raw, result in zip(committed.block.txs, committed.results, strict=True):
                if result.code != election_pb2.OK:
                    continue
                try:
                    envelope, tx = decode_signed_tx(raw)
                except DecodeError:
                    continue
                if tx_kind(tx) == "audited_ballot" and tx.audited_ballot.election_id == election_id:
                    yield got, raw, tx.audited_ballot, envelope.signer
        if got < height:
            break  # the node served nothing more: stop rather than ask forever
        height = got + 1


def _opened(
    record: election_pb2.ElectionState,
    height: int,
    raw: bytes,
    body: election_pb2.AuditedBallot,
    voter: bytes,
) -> PublishedAudit:
    try:
        opened = open_ballot(record.election_key, body.ballot, body.nonces)
    except (BallotInvalid, DecodeError) as exc:
        return PublishedAudit(tx_hash(raw), height, voter, {}, f"does not open: {exc}")
    problem = None if opened == body.choices else "opens to other choices than it states"
    choices: dict[str, list[str]] = {}
    at = 0
    for contest in record.definition.contests:
        row = opened[at : at + len(contest.choices)]
        choices[contest.id] = [c.id for c, value in zip(contest.choices, row, strict=False) if value]
        at += len(contest.choices)
    return PublishedAudit(tx_hash(raw), height, voter, choices, problem)
