"""Every valid proposal and vote seen at one height, with the tallies the `upon` rules read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from node.consensus.messages import Proposal, Vote, VoteType

# A correct proposer sends one proposal per round; a Byzantine one may send many. Keeping a few
# lets the commit rule find the value a quorum precommitted without letting one node fill memory.
MAX_PROPOSALS_PER_ROUND: Final = 4
# Votes for different values from one validator in one round and type. An equivocator is counted
# in the tally of every value it signed — safe, since quorum intersection only needs correct
# validators to be unique — so a polka that one correct node saw is visible to all once relayed.
# When a validator's votes are at the bound, one for a value nobody else voted for and no
# proposal names gives way to one for a value that has either (`unsupported_vote`): a flood of
# votes for made-up values must not keep out the vote that the value on the table needs.
MAX_VOTES_PER_VALIDATOR: Final = 4


class HeightMessages:
    def __init__(self) -> None:
        self._votes: dict[tuple[int, VoteType], dict[int, dict[bytes | None, Vote]]] = {}
        self._tally: dict[tuple[int, VoteType], dict[bytes | None, int]] = {}
        self._proposals: dict[int, dict[bytes, Proposal]] = {}
        self._senders: dict[int, set[int]] = {}

    def votes_of(self, round_: int, vote_type: VoteType, validator: int) -> dict[bytes | None, Vote]:
        """This validator's votes in (round, type), by block id; more than one is equivocation."""
        return self._votes.get((round_, vote_type), {}).get(validator, {})

    def votes(self) -> list[Vote]:
        """Every vote held, by round, type and validator (a validator's several in arrival order)."""
        return [
            vote
            for (round_, vote_type), by_validator in sorted(self._votes.items())
            for validator in sorted(by_validator)
            for vote in by_validator[validator].values()
        ]

    def add_vote(self, vote: Vote) -> None:
        key = (vote.round, vote.type)
        by_value = self._votes.setdefault(key, {}).setdefault(vote.validator, {})
        assert vote.block_id not in by_value and len(by_value) < MAX_VOTES_PER_VALIDATOR
        by_value[vote.block_id] = vote
        tally = self._tally.setdefault(key, {})
        tally[vote.block_id] = tally.get(vote.block_id, 0) + 1
        self._senders.setdefault(vote.round, set()).add(vote.validator)

    def remove_vote(self, vote: Vote) -> None:
        """Forget one of a validator's several votes in (round, type); it keeps at least one, so
        the validators heard from in that round (round skip, 2f+1 of any) do not change."""
        key = (vote.round, vote.type)
        by_value = self._votes[key][vote.validator]
        assert len(by_value) > 1 and by_value[vote.block_id] == vote
        del by_value[vote.block_id]
        tally = self._tally[key]
        tally[vote.block_id] -= 1
        if tally[vote.block_id] == 0:
            del tally[vote.block_id]

    def supported(self, round_: int, vote_type: VoteType, block_id: bytes | None) -> bool:
        """Whether a value could matter at this round: nil, a proposal names it, or someone voted it."""
        return (
            block_id is None
            or self.count(round_, vote_type, block_id) > 0
            or self.proposal(round_, block_id) is not None
        )

    def unsupported_vote(self, round_: int, vote_type: VoteType, validator: int) -> Vote | None:
        """The validator's first vote in (round, type) for a value no other validator voted for
        and no proposal names, if it has one."""
        for block_id, vote in self.votes_of(round_, vote_type, validator).items():
            if (
                block_id is not None
                and self.count(round_, vote_type, block_id) == 1
                and self.proposal(round_, block_id) is None
            ):
                return vote
        return None

    def proposal(self, round_: int, block_id: bytes) -> Proposal | None:
        return self._proposals.get(round_, {}).get(block_id)

    def proposals(self, round_: int) -> Iterable[Proposal]:
        return self._proposals.get(round_, {}).values()

    def proposals_of(self, block_id: bytes) -> list[Proposal]:
        """Every proposal of this height that names `block_id`, lowest round first."""
        return [by_id[block_id] for _, by_id in sorted(self._proposals.items()) if block_id in by_id]

    def proposal_room(self, round_: int) -> bool:
        return len(self._proposals.get(round_, {})) < MAX_PROPOSALS_PER_ROUND

    def add_proposal(self, proposal: Proposal) -> None:
        by_id = self._proposals.setdefault(proposal.round, {})
        assert proposal.block_id not in by_id and len(by_id) < MAX_PROPOSALS_PER_ROUND
        by_id[proposal.block_id] = proposal
        self._senders.setdefault(proposal.round, set()).add(proposal.proposer)

    def count(self, round_: int, vote_type: VoteType, block_id: bytes | None) -> int:
        """Distinct validators that signed this value."""
        return self._tally.get((round_, vote_type), {}).get(block_id, 0)

    def count_any(self, round_: int, vote_type: VoteType) -> int:
        """Distinct validators that signed anything of this type in this round."""
        return len(self._votes.get((round_, vote_type), {}))

    def ids_with(self, round_: int, vote_type: VoteType, at_least: int) -> list[bytes]:
        """Non-nil block ids with at least `at_least` votes of this type in this round."""
        tally = self._tally.get((round_, vote_type), {})
        return [block_id for block_id, n in tally.items() if block_id is not None and n >= at_least]

    def votes_for(self, round_: int, vote_type: VoteType, block_id: bytes) -> list[Vote]:
        """The votes for one value, one per validator, by validator index."""
        by_validator = self._votes.get((round_, vote_type), {})
        return [
            by_validator[validator][block_id]
            for validator in sorted(by_validator)
            if block_id in by_validator[validator]
        ]

    def vote_rounds(self, vote_type: VoteType) -> list[int]:
        return sorted(round_ for round_, kind in self._votes if kind == vote_type)

    def highest_round_with_senders(self, at_least: int, above: int) -> int | None:
        """The highest round above `above` from which `at_least` distinct validators sent anything."""
        rounds = [r for r, senders in self._senders.items() if r > above and len(senders) >= at_least]
        return max(rounds, default=None)
