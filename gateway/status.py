"""The one table from a validator's ResultCode to the gRPC status a gateway client sees.

A client app branches on the status code alone (retry, ask the voter again, show "already voted"),
so every code a validator can answer maps to exactly one status, and the table covers the enum.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import grpc  # type: ignore[import-untyped, unused-ignore]

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
