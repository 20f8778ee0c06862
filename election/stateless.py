"""The checks that need no ledger state beyond an election's public parameters: the signature, a
ballot's identity-provider attestation, the zero-knowledge proofs, and an audited ballot's
openings.

They are the expensive part of a transaction, so a node runs them once (docs/design.md, lessons:
ElectionGuard issues 757, 752): `verify_tx_stateless` is a pure top-level function a process pool
can run; a hash it passes goes into the verified set that `check_tx` and `execute_block` accept.
A result is only valid for the parameters it was computed with; an election's definition and key
never change once recorded, so neither does the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from election.reasons import ok, refuse, refused
from proto.votestore.v1 import election_pb2
from votestore.crypto import attestation, elgamal, tally
from votestore.crypto.ballot import verify_ballot
from votestore.crypto.dkg import check_deal_form, check_deal_proofs
from votestore.crypto.errors import BallotInvalid, DealInvalid
from votestore.crypto.opening import open_ballot
from votestore.encoding import decode_signed_tx, tx_kind, verify_signed_tx
from votestore.errors import DecodeError, Rejected, SignatureError


@dataclass(frozen=True, slots=True, eq=False)
class ElectionParams:
    """An election's public parameters: all a ballot's or deal's proofs are checked against."""

    definition: election_pb2.ElectionCreate
    election_key: bytes
    """Empty until the election opens."""

    @classmethod
    def of(cls, record: election_pb2.ElectionState) -> ElectionParams:
        return cls(record.definition, record.election_key)


PROOF_KINDS: Final = frozenset({"ballot", "audited_ballot", "dkg_deal"})
"""Transactions whose stateless check includes zero-knowledge proofs (`verify_tx_stateless`): the
ones worth a verify worker, at a node's intake and in the verifier's replay alike."""


def stateless_checks(
    chain_id: str,
    envelope: election_pb2.SignedTx,
    tx: election_pb2.Tx,
    params: ElectionParams | None,
) -> list[elgamal.Ciphertext]:
    """Raise Rejected unless the signature (and, for ballots and deals, the proofs) hold. A
    ballot's ciphertexts come back as decoded with its proofs (see `verify_tx_handover`)."""
    try:
        verify_signed_tx(chain_id, envelope, tx)
    except SignatureError as exc:
        refuse(election_pb2.BAD_SIGNATURE, str(exc))
    try:
        match tx_kind(tx):
            case "ballot":
                params = _params_for(params, tx.ballot.election_id)
                return _check_ballot(chain_id, params, envelope.signer, tx.ballot)
            case "audited_ballot":
                params = _params_for(params, tx.audited_ballot.election_id)
                _check_audited(params, envelope.signer, tx.audited_ballot)
            case "dkg_deal":
                _check_deal(chain_id, _params_for(params, tx.dkg_deal.election_id), tx.dkg_deal)
            case _:
                pass  # the other kinds carry no proof, or one only the ledger state can judge
    except DecodeError as exc:
        # A point or scalar that does not decode, in the transaction or in parameters a Byzantine
        # history left (an identity election key): a refusal, never an exception in a block.
        refuse(election_pb2.MALFORMED, str(exc))
    return []


def _params_for(params: ElectionParams | None, election_id: str) -> ElectionParams:
    if params is None or params.definition.election_id != election_id:
        refuse(election_pb2.UNKNOWN_ELECTION, "no parameters for this transaction's election")
    return params


def _check_ballot(
    chain_id: str, params: ElectionParams, voter: bytes, body: election_pb2.Ballot
) -> list[elgamal.Ciphertext]:
    """The identity provider's attestation (one signature) before the proofs (milliseconds)."""
    if not params.election_key:
        refuse(election_pb2.WRONG_PHASE, "the election has no key yet")
    why = attestation.problem(params.definition.identity_provider, chain_id, voter, body)
    if why is not None:
        refuse(election_pb2.BAD_ATTESTATION, why)
    try:
        return verify_ballot(body.election_id, params.definition, params.election_key, body, voter=voter)
    except BallotInvalid as exc:
        refuse(election_pb2.BAD_PROOF, exc.reason)


def _check_audited(params: ElectionParams, voter: bytes, body: election_pb2.AuditedBallot) -> None:
    """An audited ballot's proofs hold for its publisher's key, and its nonces open every
    ciphertext to the choices it shows (votestore/crypto/opening.py)."""
    if not params.election_key:
        refuse(election_pb2.WRONG_PHASE, "the election has no key yet")
    try:
        verify_ballot(body.election_id, params.definition, params.election_key, body.ballot, voter=voter)
        opened = open_ballot(params.election_key, body.ballot, body.nonces)
    except BallotInvalid as exc:
        refuse(election_pb2.BAD_PROOF, exc.reason)
    if opened != body.choices:
        refuse(election_pb2.BAD_PROOF, "the nonces open the ballot to other choices than it shows")


def _check_deal(chain_id: str, params: ElectionParams, body: election_pb2.DkgDeal) -> None:
    definition = params.definition
    try:
        check_deal_form(body.election_id, definition.trustees, definition.threshold, body)
    except DealInvalid as exc:
        refuse(election_pb2.MALFORMED, exc.reason)
    try:
        check_deal_proofs(chain_id, body)
    except DealInvalid as exc:
        refuse(election_pb2.BAD_PROOF, exc.reason)


def verify_tx_stateless(chain_id: str, raw: bytes, params: ElectionParams | None) -> election_pb2.TxResult:
    """Pure and picklable: safe to run in a ProcessPoolExecutor. OK means add tx_hash(raw) to the
    verified set; any other result is recomputed at execution, in the state machine's order."""
    return _verify(chain_id, raw, params)[0]


def verify_tx_handover(
    chain_id: str, raw: bytes, params: ElectionParams | None
) -> tuple[election_pb2.TxResult, bytes]:
    """`verify_tx_stateless`, plus for an OK ballot its ciphertexts' points as this process
    decoded them (`tally.handover`; empty for other transactions): a worker's answer, so the
    node's tally takes the points without decoding each ballot a second time."""
    result, decoded = _verify(chain_id, raw, params)
    return result, tally.handover(decoded)


def _verify(
    chain_id: str, raw: bytes, params: ElectionParams | None
) -> tuple[election_pb2.TxResult, list[elgamal.Ciphertext]]:
    try:
        envelope, tx = decode_signed_tx(raw)
        decoded = stateless_checks(chain_id, envelope, tx, params)
    except DecodeError as exc:
        return election_pb2.TxResult(code=election_pb2.MALFORMED, detail=str(exc)), []
    except Rejected as rejection:
        return refused(rejection), []
    return ok(), decoded
