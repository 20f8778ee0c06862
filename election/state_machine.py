"""The election state machine: one transaction at a time against a block's view of state.

Pure and deterministic: the result of a transaction depends only on the committed state, the
earlier transactions of its block, the block's height and time, and the transaction's bytes —
never on the verify-once cache, which only skips work whose answer is already known to be OK.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Final

from election.auditing import audited_ballot
from election.counting import decryption_share
from election.election_admin import close_expired, election_close, election_create, roll_append
from election.keygen import dkg_complaint, dkg_deal, election_open
from election.policy import BlockContext, ChainPolicy
from election.reasons import ok, refused
from election.tx_env import TxEnv
from election.view import StateView
from election.voting import ballot, ballot_checks
from proto.votestore.v1 import election_pb2
from votestore.encoding import DecodedTx
from votestore.errors import DecodeError, Rejected

NO_POINTS: Final[Mapping[bytes, bytes]] = MappingProxyType({})
NO_DECODED: Final[Mapping[bytes, DecodedTx]] = MappingProxyType({})


def begin_block(view: StateView, ctx: BlockContext) -> None:
    """What block time does before any transaction: close elections whose window has ended."""
    close_expired(view, ctx)


def execute_tx(
    view: StateView,
    policy: ChainPolicy,
    ctx: BlockContext,
    raw: bytes,
    digest: bytes,
    verified: Collection[bytes],
    tally_points: Mapping[bytes, bytes] = NO_POINTS,
    decoded: Mapping[bytes, DecodedTx] = NO_DECODED,
) -> tuple[election_pb2.TxResult, str]:
    """Apply one transaction to `view` if it is valid; refuse it with a reason code otherwise.
    `digest` is its `tx_hash`, which the caller has; `tally_points` holds, by hash, preverified
    ballots' points as decoded (`TxEnv.tally_points`); `decoded`, by hash, transactions the
    caller decoded already (the same bytes decode the same way). Returns the result and the
    transaction's kind ("malformed" if it does not decode)."""
    tx = decoded.get(digest)
    if tx is None:
        try:
            tx = DecodedTx.of(raw)
        except DecodeError as exc:
            return malformed(exc), "malformed"
    points = tally_points.get(digest, b"")
    return execute_decoded(view, policy, ctx, digest, tx, digest in verified, points), tx.kind


def malformed(error: DecodeError) -> election_pb2.TxResult:
    """The result of a transaction that does not decode."""
    return election_pb2.TxResult(code=election_pb2.MALFORMED, detail=str(error))


def execute_decoded(
    view: StateView,
    policy: ChainPolicy,
    ctx: BlockContext,
    digest: bytes,
    decoded: DecodedTx,
    preverified: bool,
    points: bytes = b"",
    *,
    checks_only: bool = False,
) -> election_pb2.TxResult:
    """`execute_tx` of a transaction the caller decoded and hashed (`digest`) once for all its
    uses; `preverified`: `digest` is in the verified set; `points`: its handed-over points.
    `checks_only` (ballots only, for the mempool): the same answer from the checks phase alone,
    `view` left as it was: a handler's apply phase never refuses."""
    assert preverified or not points, "points handed over for a transaction not verified"
    env = TxEnv(policy, ctx, view, decoded.envelope, decoded.tx, digest, preverified, points)
    if checks_only:
        assert decoded.kind == "ballot", decoded.kind
        return _judged(lambda: ballot_checks(env, decoded.tx.ballot))
    return _judged(lambda: _dispatch(env, decoded.tx, decoded.kind))


def _judged(handler: Callable[[], object]) -> election_pb2.TxResult:
    try:
        handler()
    except Rejected as rejection:
        return refused(rejection)
    return ok()


def _dispatch(env: TxEnv, tx: election_pb2.Tx, kind: str) -> None:
    match kind:
        case "election_create":
            election_create(env, tx.election_create)
        case "roll_append":
            roll_append(env, tx.roll_append)
        case "dkg_deal":
            dkg_deal(env, tx.dkg_deal)
        case "dkg_complaint":
            dkg_complaint(env, tx.dkg_complaint)
        case "election_open":
            election_open(env, tx.election_open)
        case "election_close":
            election_close(env, tx.election_close)
        case "ballot":
            ballot(env, tx.ballot)
        case "decryption_share":
            decryption_share(env, tx.decryption_share)
        case "audited_ballot":
            audited_ballot(env, tx.audited_ballot)
        case kind:
            raise AssertionError(f"DecodedTx let through an unknown kind {kind}")
