"""Reading an election's public state from the validators, trusting none of them alone.

The definition, the election key and the result must be the same at f+1 validators before the
gateway repeats them: a lone faulty validator could otherwise hand out a key of its own and read
every assisted ballot. Turnout figures differ between validators by a block or two, so they are
left out of the agreement and taken from the most advanced agreeing answer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

from gateway.errors import Refusal
from gateway.validators import ValidatorPool
from proto.votestore.v1 import election_pb2, node_pb2
from votestore.encoding import canonical
from votestore.hashing import sha256
from votestore.ids import id_problem

READ_TIMEOUT_S: Final = 3.0
MAX_CACHED_KEYS: Final = 1024


@dataclass(frozen=True, slots=True)
class BallotParams:
    """What encrypting a ballot needs; fixed once the election key is recorded."""

    election_id: str
    definition: election_pb2.ElectionCreate
    election_key: bytes


def agreement_key(state: election_pb2.ElectionState) -> bytes:
    return sha256(canonical(state.definition) + b"\x00" + state.election_key + canonical(state.result))


def check_election_id(election_id: str) -> None:
    problem = id_problem("election", election_id)
    if problem is not None:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, problem)


class ElectionReader:
    def __init__(self, pool: ValidatorPool) -> None:
        self._pool = pool
        self._params: OrderedDict[str, BallotParams] = OrderedDict()

    async def read(self, election_id: str) -> election_pb2.ElectionState:
        """The state f+1 validators agree on; NOT_FOUND if f+1 do not know the election."""
        check_election_id(election_id)
        needed = self._pool.needed
        groups: dict[bytes, list[election_pb2.ElectionState]] = {}
        unknown = 0

        async def ask(stub: Any) -> election_pb2.ElectionState:
            request = node_pb2.GetElectionRequest(election_id=election_id)
            state: election_pb2.ElectionState = await stub.GetElection(request, timeout=READ_TIMEOUT_S)
            return state

        async for _, answer in self._pool.ask_all(ask):
            if isinstance(answer, grpc.aio.AioRpcError):
                unknown += answer.code() == grpc.StatusCode.NOT_FOUND
                if unknown > self._pool.n - needed:
                    break
                continue
            group = groups.setdefault(agreement_key(answer), [])
            group.append(answer)
            if len(group) >= needed:
                return max(group, key=lambda s: (s.phase, s.ballots))
        if unknown >= needed:
            raise Refusal(grpc.StatusCode.NOT_FOUND, f"election {election_id!r} not found")
        raise Refusal(
            grpc.StatusCode.UNAVAILABLE,
            f"fewer than {needed} validators gave the same answer about election {election_id!r}",
        )

    async def ballot_params(self, election_id: str) -> BallotParams:
        """Definition and key for encrypting, cached once the key exists (it never changes)."""
        cached = self._params.get(election_id)
        if cached is not None:
            self._params.move_to_end(election_id)
            return cached
        state = await self.read(election_id)
        if not state.election_key:
            raise Refusal(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"election {election_id!r} is not open: its key generation has not finished",
            )
        params = BallotParams(election_id, state.definition, state.election_key)
        self._params[election_id] = params
        if len(self._params) > MAX_CACHED_KEYS:
            self._params.popitem(last=False)
        return params
