"""Readiness votes: a recent signed vote of each validator the leader rule skips, for this
node's next block (node/consensus/leader.py: a block that carries one readmits its validator).

Only votes of skipped validators are kept, one per validator and height for its newest
`READY_MAX_AGE + 1` heights, and each is checked on arrival, so a peer that relays a forged
vote cannot displace a genuine one."""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import READY_MAX_AGE, BlockInvalid, check_vote_signature, ready_height


class ReadyVotes:
    def __init__(self, chain_id: str, validator_keys: Sequence[bytes]) -> None:
        self._chain_id = chain_id
        self._keys = tuple(validator_keys)
        self._held: dict[int, dict[int, ledger_pb2.Vote]] = {}  # validator -> height -> vote

    def heard(self, vote: ledger_pb2.Vote, skipped: frozenset[int]) -> None:
        """A vote arrived from a peer; keep it if its validator is skipped and its height new."""
        if vote.validator not in skipped:
            return
        held = self._held.setdefault(vote.validator, {})
        if vote.height in held or (len(held) > READY_MAX_AGE and vote.height < min(held)):
            return
        try:
            check_vote_signature(self._chain_id, self._keys, vote, "readiness")
        except BlockInvalid:
            return
        kept = ledger_pb2.Vote()
        kept.CopyFrom(vote)
        held[vote.height] = kept
        if len(held) > READY_MAX_AGE + 1:
            del held[min(held)]

    def for_block(self, height: int, skipped: frozenset[int]) -> list[ledger_pb2.Vote]:
        """The readiness votes block `height` carries (what votestore.blocks.check_ready accepts
        there): for each skipped validator, its newest held vote for a height in range."""
        for v in [v for v in self._held if v not in skipped]:
            del self._held[v]  # readmitted meanwhile: what it signed earlier is no use now
        chosen = []
        for v in sorted(self._held):
            newest = ready_height(self._held[v], height)
            if newest is not None:
                chosen.append(self._held[v][newest])
        return chosen
