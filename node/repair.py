"""Repair rules the node and the simulator share: what to send again to a peer that reports being
stuck, and when and from which peer to fetch missing blocks.

Consensus assumes every message between correct validators eventually arrives; links drop and
buffers overflow, so these rules make that true. They are pure (state in, decision out), so
`node/peers.py` and `node/catchup.py` call them in the validator and `node/sim/node.py` calls the
very same functions (and holds the very same `Peers`) in the simulator: a change here changes both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from node.consensus import Proposal, Vote, VoteType

RESEND_MIN_INTERVAL_S: Final = 1.0
"""A peer's stuck status is answered at most this often (an honest peer asks once every
STUCK_AFTER_S; each answer may carry proposals of block size)."""
SET_ASIDE_MIN_S: Final = 1.0
SET_ASIDE_MAX_S: Final = 30.0
"""A catch-up peer that failed is not asked again for SET_ASIDE_MIN_S, doubling with each failure
in a row up to SET_ASIDE_MAX_S; a peer that serves what it was asked for starts again at zero."""
ONE_BEHIND_GRACE_S: Final = 1.0  # one block behind at one height this long: it is not committing here
CATCHUP_BATCH_BLOCKS: Final = 500


def resend(
    sent: Sequence[Proposal | Vote], held: Iterable[Vote], height: int, round_: int
) -> list[Proposal | Vote]:
    """What to send again to a peer stuck at consensus (height, round): of this node's own
    messages `sent`, and then of the other validators' votes it holds (`held`, the core's), those
    of that height from its round on, and every prevote of the height — a proposal re-proposing
    validValue needs the prevotes of its validRound (line 28), which may lie in any earlier round.
    Messages of earlier rounds cannot decide this height on their own; a height decided already
    reaches the peer by catch-up.

    Others' votes are relayed because a validator that crashed mid-round keeps only its last vote:
    a prevote of its that one peer missed is gone from its memory, and without a relay that round
    never gets its quorum at that peer. A relayed vote is as safe as the original (the receiver
    checks its signature; CometBFT gossips votes the same way). At most one vote per (validator,
    round, type) is relayed — the first held; an equivocator's others are evidence, not needed for
    a quorum — and none this node already sends as its own, so an answer holds at most one prevote
    and one precommit per validator per round the peer may still need."""

    def wanted(message: Proposal | Vote) -> bool:
        return message.height == height and (
            message.round >= round_ or (isinstance(message, Vote) and message.type == VoteType.PREVOTE)
        )

    out = [message for message in sent if wanted(message)]
    taken = {(m.validator, m.round, m.type) for m in sent if isinstance(m, Vote) and m.height == height}
    for vote in held:
        key = (vote.validator, vote.round, vote.type)
        if key not in taken and wanted(vote):
            taken.add(key)
            out.append(vote)
    return out


@dataclass(slots=True)
class ResendLimit:
    """At most one answer to a peer's stuck status per `min_interval_s`."""

    min_interval_s: float = RESEND_MIN_INTERVAL_S
    _last: dict[int, float] = field(default_factory=dict)

    def allow(self, peer: int, now: float) -> bool:
        last = self._last.get(peer)
        if last is not None and now - last < self.min_interval_s:
            return False
        self._last[peer] = now
        return True


def rotate(eligible: Sequence[int], last: int) -> int:
    """The first of `eligible` (ascending) after `last`, wrapping: every eligible peer is asked
    in turn, whatever height it claims."""
    assert eligible, "nothing to choose from"
    return next((peer for peer in eligible if peer > last), eligible[0])


@dataclass(slots=True)
class CatchupPeers:
    """Which peer a node that fell behind asks for blocks next.

    Claimed heights (from status messages and hellos) are hints, not facts: a peer is eligible if
    it claims more than this node holds and is not set aside, and eligible peers are asked in
    rotation rather than always the one claiming most, so one liar claiming a huge height gets
    one turn in k, not all of them. A peer whose blocks or certificates fail, whose stream ends
    empty, or who serves less than it claimed is set aside for a backoff (`failed`)."""

    min_s: float = SET_ASIDE_MIN_S
    max_s: float = SET_ASIDE_MAX_S
    _until: dict[int, float] = field(default_factory=dict)
    _failures: dict[int, int] = field(default_factory=dict)
    _last: int = -1

    def eligible(self, heights: Mapping[int, int], mine: int, now: float) -> list[int]:
        return sorted(p for p, h in heights.items() if h > mine and self._until.get(p, 0.0) <= now)

    def best(self, heights: Mapping[int, int], mine: int, now: float) -> int:
        """The greatest height an eligible peer claims, or `mine`."""
        return max((heights[p] for p in self.eligible(heights, mine, now)), default=mine)

    def choose(self, heights: Mapping[int, int], mine: int, now: float) -> int | None:
        eligible = self.eligible(heights, mine, now)
        if not eligible:
            return None
        self._last = rotate(eligible, self._last)
        return self._last

    def failed(self, peer: int, now: float) -> None:
        failures = self._failures.get(peer, 0) + 1
        self._failures[peer] = failures
        self._until[peer] = now + min(self.max_s, self.min_s * 2 ** min(failures - 1, 16))

    def served(self, peer: int) -> None:
        self._failures.pop(peer, None)
        self._until.pop(peer, None)

    def set_aside(self, now: float) -> list[int]:
        return sorted(p for p, until in self._until.items() if until > now)


@dataclass(slots=True)
class Lag:
    """When a node behind its peers should fetch blocks rather than wait for consensus.

    Two or more blocks behind: at once. One behind is the normal state of a validator whose
    commit of a height finishes after a faster peer's: it fetches only if that same height has
    stayed uncommitted here for ONE_BEHIND_GRACE_S. The grace starts again at each height this
    node commits, so a validator that is often a little behind does not fetch blocks it is
    committing itself — but not after a fetch: a node whose last block came by fetch dropped the
    next height's messages while it was further behind (the core keeps only height + 1), and
    peers that have moved on send them no more, so it fetches at once."""

    height: int = -1
    """This node's height when a peer was first seen ahead of it; -1 when none is ahead."""
    since: float = 0.0
    fetched_to: int = -1
    """The last height of the last fetch planned."""

    def fetch_due(self, mine: int, best: int, now: float) -> bool:
        """`mine`: this node's height; `best`: the highest peer height known; `now`: seconds."""
        if best <= mine:
            self.height = -1
            return False
        if self.height != mine:
            self.height, self.since = mine, now
        return best - mine >= 2 or mine == self.fetched_to or now - self.since >= ONE_BEHIND_GRACE_S


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """Ask `peer` for heights first..last."""

    peer: int
    first: int
    last: int

    @property
    def asked(self) -> int:
        return self.last - self.first + 1


def plan_fetch(
    lag: Lag, choice: CatchupPeers, heights: Mapping[int, int], mine: int, now: float
) -> FetchPlan | None:
    """One catch-up tick's decision: nothing while no eligible peer is clearly ahead (`Lag`),
    else the next peer in rotation, asked up to what it claims (at most CATCHUP_BATCH_BLOCKS)."""
    if not lag.fetch_due(mine, choice.best(heights, mine, now), now):
        return None
    peer = choice.choose(heights, mine, now)
    assert peer is not None, "fetch_due only with an eligible peer ahead"
    plan = FetchPlan(peer, mine + 1, min(heights[peer], mine + CATCHUP_BATCH_BLOCKS))
    lag.fetched_to = plan.last
    return plan


def judge_fetch(choice: CatchupPeers, plan: FetchPlan, served: int, bad: bool, now: float) -> bool:
    """Record how `plan`'s peer served (`served` good blocks; `bad`: one failed its checks);
    True if it was set aside."""
    if fetch_failed(plan.asked, served, bad):
        choice.failed(plan.peer, now)
        return True
    choice.served(plan.peer)
    return False


def fetch_failed(asked: int, served: int, bad: bool) -> bool:
    """Whether a fetch of `asked` blocks that yielded `served` good ones (`bad`: one failed its
    checks) counts against the peer: a bad block or certificate, an empty stream, or fewer blocks
    than the height it claimed (it was asked only up to its claim)."""
    return bad or served < asked
