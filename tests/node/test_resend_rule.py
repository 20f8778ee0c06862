"""`node.repair.resend`, the one rule the node's `Peers` and the simulator answer a stuck peer
with: this node's own messages of the peer's height from its round on (and every prevote), then
the other validators' votes it holds by the same test, at most one per (validator, round, type)."""

from __future__ import annotations

from node.consensus import Proposal, Vote, VoteType
from node.repair import resend

X, Y = b"\x01" * 32, b"\x02" * 32
PREVOTE, PRECOMMIT = VoteType.PREVOTE, VoteType.PRECOMMIT


def _vote(kind: VoteType, round_: int, validator: int, block_id: bytes | None = X, height: int = 5) -> Vote:
    return Vote(kind, height, round_, block_id, validator, bytes([validator, round_]) * 8)


def test_own_messages_from_the_round_on_and_every_prevote() -> None:
    proposal = Proposal(5, 2, -1, X, 0, b"s", b"p")
    own = [
        _vote(PREVOTE, 0, 0),
        _vote(PRECOMMIT, 0, 0),
        proposal,
        _vote(PREVOTE, 2, 0),
        _vote(PREVOTE, 4, 0, height=4),
    ]
    assert resend(own, (), 5, 2) == [own[0], proposal, own[3]]


def test_others_votes_follow_own_one_per_validator_round_and_type() -> None:
    """The case of the five stalled soak seeds: validator 1's prevote of round 0 reached this node
    only; the stuck peer gets it relayed. An equivocator's second vote in a slot is not relayed."""
    own = [_vote(PREVOTE, 0, 0), _vote(PRECOMMIT, 0, 0)]
    held = [
        _vote(PREVOTE, 0, 0),  # this node's own, already in `own`
        _vote(PREVOTE, 0, 1),
        _vote(PREVOTE, 0, 2, None),
        _vote(PREVOTE, 0, 2, Y),  # validator 2 equivocated: one of its two goes
        _vote(PRECOMMIT, 0, 1, None),
        _vote(PRECOMMIT, 1, 3, None),
    ]
    assert resend(own, held, 5, 0) == [*own, held[1], held[2], held[4], held[5]]


def test_others_votes_of_earlier_rounds_only_prevotes_and_never_another_height() -> None:
    held = [
        _vote(PRECOMMIT, 0, 1),  # earlier round, precommit: cannot help round 1
        _vote(PREVOTE, 0, 1),  # earlier round, prevote: a re-proposal's proof of lock may need it
        _vote(PRECOMMIT, 1, 2),
        _vote(PREVOTE, 1, 3, height=6),
    ]
    assert resend([], held, 5, 1) == [held[1], held[2]]
