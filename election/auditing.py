"""Audited ballots (Benaloh's cast-or-audit): a ballot the voter chose to audit instead of casting
is published with its nonces, so anyone can check that the voter's page encrypted the choices it
showed; such a ballot is never cast, and a cast ballot is never published (its choices would be
read).

Who may publish: the voter alone — the transaction is signed by the credential key the ballot's
proofs are bound to (`verify_ballot(voter=signer)`), the key must be on the roll, and the voter
must not have voted yet. So a ballot that counts can be published only by its own voter, and a
voter who has voted publishes nothing: "cast then publish" is refused (ALREADY_VOTED) without an
index of cast ballots. Spam is bounded by the roll: at most MAX_AUDITS_PER_VOTER per voter, each
no larger than the election's ballot (docs/design.md, "Cast or audit").

Never cast: the voter's audited digests are one state record (`state_keys.audited`), read by a
ballot's checks in one lookup; a ballot whose digest is among them is refused (AUDITED). Voters
who audited nothing — almost all — pay that lookup and no hash.

The checks run cheapest first, like a ballot's; the signature, the proofs and the openings (the
expensive part, `stateless._check_audited`) last and once per node.
"""

from __future__ import annotations

from typing import Final

from election import state_keys
from election.reasons import refuse
from election.tx_env import TX_WRAPPER_MAX_BYTES, TxEnv
from proto.votestore.v1 import election_pb2
from votestore.crypto.attestation import ballot_digest
from votestore.crypto.ballot import delimited_bytes, encoded_ballot_bytes
from votestore.crypto.group import SCALAR_BYTES
from votestore.hashing import HASH_BYTES

MAX_AUDITS_PER_VOTER: Final = 4
"""Audited ballots one voter may publish per election: a voter who distrusts the page audits once
or twice; the bound keeps the ledger's growth per roll member small."""


def audited_cap(definition: election_pb2.ElectionCreate) -> int:
    """The largest well-formed AuditedBallot transaction body for this definition: the ballot (its
    size is fixed by the definition), a nonce and a choice byte per selection, the election id."""
    selections = sum(len(c.choices) for c in definition.contests)
    return (
        delimited_bytes(len(definition.election_id.encode()))
        + delimited_bytes(encoded_ballot_bytes(definition))
        + selections * delimited_bytes(SCALAR_BYTES)
        + delimited_bytes(selections)
        + TX_WRAPPER_MAX_BYTES
    )


def audited_ballot(env: TxEnv, body: election_pb2.AuditedBallot) -> None:
    digests, digest = audited_checks(env, body)
    env.view.put(state_keys.audited(body.election_id, env.signer), digests + digest)


def audited_checks(env: TxEnv, body: election_pb2.AuditedBallot) -> tuple[bytes, bytes]:
    """Refuse, or return the voter's audited digests so far and this ballot's digest."""
    record = env.election(body.election_id)
    definition = record.definition
    cap = audited_cap(definition)
    size = len(env.envelope.body)
    if size > cap:
        refuse(election_pb2.MALFORMED, f"audited ballot of {size} bytes exceeds this election's {cap}")
    if body.ballot.election_id != body.election_id:
        refuse(election_pb2.MALFORMED, "the audited ballot names another election")
    if body.ballot.attestation:
        refuse(election_pb2.MALFORMED, "an audited ballot carries no attestation: it is never cast")
    if not definition.window_start_ms <= env.ctx.time_ms < definition.window_end_ms:
        refuse(election_pb2.OUTSIDE_WINDOW, f"block time {env.ctx.time_ms} outside the voting window")
    env.require_phase(record, election_pb2.OPEN)
    if env.view.get(state_keys.roll_entry(body.election_id, env.signer)) is None:
        refuse(election_pb2.NOT_IN_ROLL, "signer's credential is not in the roll")
    if env.view.get(state_keys.voted(body.election_id, env.signer)) is not None:
        refuse(election_pb2.ALREADY_VOTED, "this credential has voted: a cast ballot is never published")
    digests = env.view.get(state_keys.audited(body.election_id, env.signer)) or b""
    digest = ballot_digest(body.ballot)
    if digest in split_digests(digests):
        refuse(election_pb2.DUPLICATE, "this ballot is published as audited already")
    if len(digests) >= MAX_AUDITS_PER_VOTER * HASH_BYTES:
        refuse(election_pb2.AUDIT_LIMIT, f"this voter published {MAX_AUDITS_PER_VOTER} audited ballots")
    env.require_stateless(record)
    return digests, digest


def refuse_if_audited(env: TxEnv, body: election_pb2.Ballot) -> None:
    """A ballot's check: refuse it if its voter published it as audited (one state lookup)."""
    digests = env.view.get(state_keys.audited(body.election_id, env.signer))
    if digests is not None and ballot_digest(body) in split_digests(digests):
        refuse(election_pb2.AUDITED, "this ballot was published as audited: it is never cast")


def split_digests(raw: bytes) -> list[bytes]:
    assert len(raw) % HASH_BYTES == 0, len(raw)
    return [raw[at : at + HASH_BYTES] for at in range(0, len(raw), HASH_BYTES)]
