"""The one table from a validator's ResultCode to the gRPC status a gateway client sees.

A client app branches on the status code alone (retry, ask the voter again, show "already voted"),
so every code a validator can answer maps to exactly one status, and the table covers the enum.
`refusal_of` says why a broadcast ballot was not taken, through that table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import grpc  # type: ignore[import-untyped, unused-ignore]

from gateway.answers import Accepted, BroadcastOutcome, Refused
from gateway.errors import Refusal
from proto.votestore.v1 import election_pb2

STATUS_OF_RESULT: Final[Mapping[int, grpc.StatusCode]] = MappingProxyType(
    {
        election_pb2.OK: grpc.StatusCode.OK,
        election_pb2.MALFORMED: grpc.StatusCode.INVALID_ARGUMENT,
        election_pb2.BAD_SIGNATURE: grpc.StatusCode.UNAUTHENTICATED,
        election_pb2.UNKNOWN_ELECTION: grpc.StatusCode.NOT_FOUND,
        election_pb2.WRONG_PHASE: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.NOT_AUTHORIZED: grpc.StatusCode.PERMISSION_DENIED,
        election_pb2.NOT_IN_ROLL: grpc.StatusCode.UNAUTHENTICATED,
        election_pb2.ALREADY_VOTED: grpc.StatusCode.ALREADY_EXISTS,
        election_pb2.OUTSIDE_WINDOW: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.BAD_PROOF: grpc.StatusCode.INVALID_ARGUMENT,
        election_pb2.DUPLICATE: grpc.StatusCode.ALREADY_EXISTS,
        election_pb2.BAD_DEFINITION: grpc.StatusCode.INVALID_ARGUMENT,
        election_pb2.OUT_OF_ORDER: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.KEYGEN_INCOMPLETE: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.KEYGEN_PENDING: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.BAD_SHARE: grpc.StatusCode.INVALID_ARGUMENT,
        election_pb2.DISQUALIFIED: grpc.StatusCode.PERMISSION_DENIED,
        election_pb2.BAD_ATTESTATION: grpc.StatusCode.UNAUTHENTICATED,
        election_pb2.AUDITED: grpc.StatusCode.FAILED_PRECONDITION,
        election_pb2.AUDIT_LIMIT: grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)

UNEXPECTED_RESULT_STATUS: Final = grpc.StatusCode.UNKNOWN
"""A code outside the table (RESULT_CODE_UNSPECIFIED, or one newer than this gateway) is a
validator speaking a protocol this gateway does not know."""


def status_for(code: int) -> grpc.StatusCode:
    status: grpc.StatusCode = STATUS_OF_RESULT.get(code, UNEXPECTED_RESULT_STATUS)
    return status


def result_name(code: int) -> str:
    """The enum name for messages and metric labels; a number for codes this build does not know."""
    try:
        return election_pb2.ResultCode.Name(election_pb2.ResultCode.ValueType(code))
    except ValueError:
        return str(code)


def refusal_of(outcome: BroadcastOutcome, n: int) -> Refusal:
    """Why a ballot was not taken, as one status: the validators' commonest reason, a size refusal,
    or UNAVAILABLE when too few validators could be reached."""
    refused: Refused | None = outcome.refusal()
    if refused is not None:
        count = sum(isinstance(a, Refused) and a.code == refused.code for a in outcome.answers)
        detail = f": {refused.detail}" if refused.detail else ""
        silent = (
            sum(not isinstance(a, (Accepted, Refused)) for a in outcome.answers) + n - len(outcome.answers)
        )
        others = "".join(
            f"; {k} {what}" for k, what in ((outcome.accepted, "took it"), (silent, "did not answer")) if k
        )
        return Refusal(
            status_for(refused.code),
            f"{result_name(refused.code)}{detail} (refused by {count} of {n} validators{others})",
        )
    oversize = outcome.oversize()
    if oversize is not None:
        return Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"validators refused the size: {oversize.detail}")
    return Refusal(
        grpc.StatusCode.UNAVAILABLE,
        f"only {outcome.accepted} of {n} validators took the ballot, {outcome.needed} needed; retry",
    )
