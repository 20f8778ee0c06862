"""The verifier's own check of audited ballots (cast-or-audit, election/auditing.py): each one
recorded as accepted is opened again here — its proofs for its publisher's key, and every
ciphertext recomputed from its nonce and shown choice — and no audited ballot is ever counted,
whichever came first on the ledger, the cast or the publication.

Ballots are matched by their attestation digest (`attestation.ballot_digest`), the same identity
the validators use, so a ballot recorded as cast and as audited is named whatever the order.
"""

from __future__ import annotations

from proto.votestore.v1 import election_pb2
from tools.verify.findings import HASH_PREFIX_CHARS, Check, Finding, Tally
from votestore.crypto.attestation import ballot_digest
from votestore.crypto.ballot import verify_ballot
from votestore.crypto.errors import BallotInvalid
from votestore.crypto.opening import open_ballot
from votestore.encoding import decode_signed_tx, tx_hash
from votestore.errors import DecodeError


class NeverCast:
    """Per election, the digests of the ballots counted and of those published as audited."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._cast: dict[str, dict[bytes, str]] = {}
        self._audited: dict[str, dict[bytes, str]] = {}

    def cast(self, height: int, raw: bytes, election_id: str, ballot: election_pb2.Ballot) -> None:
        digest = ballot_digest(ballot)
        here = _name(raw, "ballot")
        self._cast.setdefault(election_id, {})[digest] = here
        published = self._audited.get(election_id, {}).get(digest)
        if published is not None:
            self._fail(height, here, f"counted, but published as audited in {published}")

    def audited(
        self, height: int, raw: bytes, record: election_pb2.ElectionState, body: election_pb2.AuditedBallot
    ) -> None:
        here = _name(raw, "audited_ballot")
        why = _opening_problem(raw, record, body)
        if why is not None:
            self._fail(height, here, why)
            return
        digest = ballot_digest(body.ballot)
        self._audited.setdefault(body.election_id, {})[digest] = here
        counted = self._cast.get(body.election_id, {}).get(digest)
        if counted is not None:
            self._fail(height, here, f"published as audited, but counted as {counted}")
            return
        self._tally.ok(Check.AUDITED_BALLOT)

    def _fail(self, height: int, record: str, detail: str) -> None:
        self._tally.fail(Finding(Check.AUDITED_BALLOT, height, (), record, detail))


def _name(raw: bytes, kind: str) -> str:
    return f"tx {tx_hash(raw).hex()[:HASH_PREFIX_CHARS]} ({kind})"


def _opening_problem(
    raw: bytes, record: election_pb2.ElectionState, body: election_pb2.AuditedBallot
) -> str | None:
    """Why the audited ballot does not open to its shown choices, or None."""
    key = record.election_key
    try:
        envelope, _ = decode_signed_tx(raw)
        verify_ballot(body.election_id, record.definition, key, body.ballot, voter=envelope.signer)
    except (BallotInvalid, DecodeError) as exc:
        return f"its proofs do not hold: {exc}"
    try:
        opened = open_ballot(key, body.ballot, body.nonces)
    except (BallotInvalid, DecodeError) as exc:
        return f"does not open: {exc}"
    if opened != body.choices:
        return "its nonces open it to other choices than it shows"
    return None
