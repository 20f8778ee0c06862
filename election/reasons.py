"""Refusals: every transaction the state machine turns down carries a ResultCode and a short why.

Handlers raise `Rejected` from their check phase; the dispatcher turns it into a `TxResult`.
Details never carry a secret or a choice.
"""

from __future__ import annotations

from typing import Final, NoReturn

from proto.votestore.v1 import election_pb2
from votestore.errors import Rejected

MAX_DETAIL_CHARS: Final = 200


def refuse(code: election_pb2.ResultCode.ValueType, detail: str) -> NoReturn:
    assert code not in (election_pb2.OK, election_pb2.RESULT_CODE_UNSPECIFIED), code
    raise Rejected(code, detail)


def ok() -> election_pb2.TxResult:
    return election_pb2.TxResult(code=election_pb2.OK)


def refused(rejection: Rejected) -> election_pb2.TxResult:
    return election_pb2.TxResult(
        code=election_pb2.ResultCode.ValueType(rejection.code), detail=rejection.detail[:MAX_DETAIL_CHARS]
    )
