"""What a transaction handler works with, and the checks every handler shares.

A handler has two phases: checks, which may refuse (raise Rejected) and change nothing, then
apply, which changes state and never refuses — so a refused transaction leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from election.policy import BlockContext, ChainPolicy
from election.reasons import refuse
from election.stateless import ElectionParams, stateless_checks
from election.view import StateView
from proto.votestore.v1 import election_pb2

TX_WRAPPER_MAX_BYTES: Final = 4
"""What `Tx` adds around its one body (a Ballot, an AuditedBallot): a tag byte and a length of
at most 3 varint bytes (MAX_TX_BYTES < 2^21)."""


@dataclass(frozen=True, slots=True)
class TxEnv:
    policy: ChainPolicy
    ctx: BlockContext
    view: StateView
    envelope: election_pb2.SignedTx
    tx: election_pb2.Tx
    tx_hash: bytes
    preverified: bool
    """True when this node already found the signature and proofs valid (verify-once cache)."""
    tally_points: bytes = b""
    """A preverified ballot's ciphertexts as this node's verify worker decoded them
    (`tally.handover`), or empty: then the tally decodes them itself."""

    @property
    def signer(self) -> bytes:
        return self.envelope.signer

    def require_stateless(self, record: election_pb2.ElectionState | None) -> None:
        """Signature and proofs, last and only once per node: they are the expensive part."""
        if self.preverified:
            return
        params = None if record is None else ElectionParams.of(record)
        stateless_checks(self.policy.chain_id, self.envelope, self.tx, params)

    def require_admin(self) -> None:
        if self.signer not in self.policy.admin_keys:
            refuse(election_pb2.NOT_AUTHORIZED, "signer is not a genesis admin key")

    def election(self, election_id: str) -> election_pb2.ElectionState:
        record = self.view.election(election_id)
        if record is None:
            refuse(election_pb2.UNKNOWN_ELECTION, f"no election {election_id[:64]!r}")
        return record

    def require_phase(
        self, record: election_pb2.ElectionState, *phases: election_pb2.Phase.ValueType
    ) -> None:
        if record.phase not in phases:
            wanted = "/".join(election_pb2.Phase.Name(p) for p in phases)
            refuse(
                election_pb2.WRONG_PHASE,
                f"election is {election_pb2.Phase.Name(record.phase)}, needs {wanted}",
            )

    def trustee(self, record: election_pb2.ElectionState, index: int) -> election_pb2.Trustee:
        """The trustee at a 1-based index, which must also be this transaction's signer."""
        trustees = record.definition.trustees
        if not 1 <= index <= len(trustees):
            refuse(election_pb2.MALFORMED, f"trustee index {index} outside 1..{len(trustees)}")
        trustee = trustees[index - 1]
        if trustee.sign_key != self.signer:
            refuse(election_pb2.NOT_AUTHORIZED, f"signer is not trustee {index}")
        return trustee
