"""The one error the gateway's handlers raise on purpose: a gRPC status and a message for the client."""

from __future__ import annotations

import grpc  # type: ignore[import-untyped, unused-ignore]

from votestore.errors import VotestoreError


class Refusal(VotestoreError):
    """Turned into `context.abort(status, message)` at the service edge; the message names the
    reason and never a secret or a choice."""

    def __init__(self, status: grpc.StatusCode, message: str) -> None:
        assert status != grpc.StatusCode.OK, "a refusal needs an error status"
        super().__init__(message)
        self.status = status
        self.message = message
