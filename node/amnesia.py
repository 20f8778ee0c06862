"""The amnesia guard: a validator whose last-signed record is lost watches before it signs again.

DESIGN ("a node whose record is lost watches a few heights for its own signatures before it signs
again"; CometBFT's double_sign_check_height is the anchor). Without its record a validator cannot
know what it signed: a twin (its key on a fresh data dir beside the running process) or a copy
restored from an old backup would sign again, and two signatures of one key at one height and
round are a double sign. So a validator with no record — or one whose store is marked by
`Store.mark_watch_before_signing` (`node restore` sets it) — starts without signing. "No record"
means a lost or fresh store: a data dir the guard once let sign keeps that fact
(`Store.cleared_to_sign`), so restarting it signs at once even if it had signed nothing yet
(without that, a validator that crashed before its first signature came back watching, and with
one other validator down or Byzantine the chain stalled for good: the simulator's seeds 1002254,
1002298 and 2000996):

* WAITING, at genesis with an empty store: a fresh validator, or a twin whose peers are far
  ahead. It signs as soon as `quorum − 1` peers show they are at genesis
  too — a status of height 0, or a validly signed vote or proposal for height 1 (a fresh cluster:
  f liars cannot make that up alone); the first block it commits (it was behind) sends it to
  WATCHING. Claimed heights are hints: a liar claiming more changes nothing. Not covered: a
  validator that signed at height 1 and lost its record before height 1 was decided looks
  fresh, and may sign again in a round it signed before (the simulator's planted amnesia finds
  it: tests/sim/test_schedules.py); CometBFT's double_sign_check_height has the same gap. The
  core narrows it where it can: once a peer has relayed a vote of this key, it signs no other
  value at that height, round and type (`Consensus._holds_own_other`). Closing it needs each
  peer's replay of this validator's held votes to arrive before that peer counts as "at
  genesis" (today the answer status and hello height count first).
* WATCHING: it catches up and follows, signing nothing, until it has committed `watch_heights`
  heights at the tip (the (f+1)-th greatest height its peers claim, so f liars cannot move it),
  one of them its own round-robin turn. Any sign of its
  own key meanwhile — a validly signed vote or proposal of its index from a peer, or, in a block
  within `watch_heights` of the tip, a header naming it as builder or its signature in the
  certificate — was made by another process (it made none), so it goes to REFUSED. Older blocks
  are not read: a validator back after a long absence finds its own
  signatures there, and they endanger nothing (as CometBFT's double_sign_check_height).
* REFUSED: a follower that never signs, until an operator acts; never a crash loop.
* SIGNING: the record is kept from here on, and the store's mark is cleared. The votes the core
  cast in silence in the current round are signed and sent at once (`SignWithheld`): a round
  whose 2f+1 prevotes need this validator's would otherwise never start timeoutPrevote.

`watch_heights = 0` turns the guard off (the node logs a warning at start). The guard decides;
the consensus core only obeys `Consensus.sign_from`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum


class SigningState(IntEnum):
    """Exported as the votestore_node_signing_state gauge."""

    SIGNING = 0
    WAITING = 1
    WATCHING = 2
    REFUSED = 3


class AmnesiaGuard:
    def __init__(
        self,
        *,
        index: int,
        size: int,
        watch_heights: int,
        has_record: bool,
        marked: bool,
        store_height: int,
        quorum: int,
    ) -> None:
        self._index = index
        self._size = size
        self._watch_heights = watch_heights
        self._quorum = quorum
        self._watched = 0
        self._at_genesis: set[int] = set()  # peers seen at genesis (WAITING)
        self._own_turn_watched = False
        if watch_heights == 0 or (has_record and not marked):
            self.state = SigningState.SIGNING
        elif store_height == 0 and not marked:
            self.state = SigningState.WAITING
        else:
            self.state = SigningState.WATCHING

    @property
    def signing(self) -> bool:
        return self.state == SigningState.SIGNING

    def peer_heights(self, heights: Mapping[int, int]) -> SigningState:
        """Peers' claimed heights changed. Returns the state after."""
        return self._seen_at_genesis(peer for peer, h in heights.items() if h == 0)

    def peer_signed_at_genesis(self, peer: int) -> SigningState:
        """A validly signed vote or proposal of `peer` for height 1 arrived."""
        return self._seen_at_genesis([peer])

    def _seen_at_genesis(self, peers: Iterable[int]) -> SigningState:
        if self.state == SigningState.WAITING:
            self._at_genesis.update(p for p in peers if p != self._index)
            if len(self._at_genesis) >= self._quorum - 1:
                self.state = SigningState.SIGNING
        return self.state

    def tip(self, heights: Mapping[int, int]) -> int:
        """The (f+1)-th greatest claimed height: some correct peer claims at least that much."""
        f = (self._size - 1) // 3
        ranked = sorted(heights.values(), reverse=True)
        return ranked[f] if len(ranked) > f else 0

    def own_message(self) -> SigningState:
        """A validly signed proposal or vote of this validator's key arrived from a peer."""
        if self.state in (SigningState.WAITING, SigningState.WATCHING):
            self.state = SigningState.REFUSED
        return self.state

    def committed(
        self, height: int, builder: int, signers: Iterable[int], heights: Mapping[int, int]
    ) -> SigningState:
        """Block `height`, built by `builder`, was committed with a certificate signed by
        `signers`; `heights`: the peers' claimed heights."""
        tip = self.tip(heights)
        if self.state == SigningState.WAITING:
            self.state = SigningState.WATCHING  # it was behind: the chain is past genesis
        if self.state != SigningState.WATCHING:
            return self.state
        recent = height >= tip - self._watch_heights
        if recent and (builder == self._index or self._index in signers):
            self.state = SigningState.REFUSED
            return self.state
        if height >= tip:
            self._watched += 1
            self._own_turn_watched |= height % self._size == self._index
            if self._watched >= self._watch_heights and self._own_turn_watched:
                self.state = SigningState.SIGNING
        return self.state
