"""Who proposes at (height, round): round-robin that skips validators that missed their turn,
decided by the certified chain alone so every correct validator picks the same one.

The rule reads, for each of the last `window` committed blocks (heights h − window .. h − 1), a
`Turn`: who built it (its header names the builder; a re-proposed block keeps its builder, so
every node records the same one whatever round it saw the decision in) and which skipped
validators it carries readiness votes for (the block's `ready` list, see below). Folding those
turns oldest first, every validator starts the window *active* and

* a validator that builds a committed block is active;
* the plain round-robin owner of height x (x mod n) that did not build block x is *skipped*: it
  missed its round-0 turn — an active owner of x is always round 0's proposer at x, so one
  waited-out turn, not several, is what a dead validator costs before the rule skips it (for a
  validator already skipped the miss changes nothing);
* a skipped validator for which block x carries a readiness vote for a height after the one
  whose turn it missed (a vote up to that height, even one sent ahead of it, shows nothing of
  it after the miss: a crashed validator's last vote, or a watching amnesiac's flood) is active
  again from x + 1 if it built a block earlier in the window and has not been readmitted so
  since (it missed one turn, say to a slow link or a Byzantine validator's equivocation: back
  before its next turn, for n ≥ 4), else
  only if x is a *readmission height* (the first n heights of every `READMIT_TURNS` · n). So a
  validator that was gone a while waits at most READMIT_TURNS · n heights to propose again —
  while the others, who propose in its place, lose nothing — and a Byzantine validator costs at
  most one timeoutPropose per block of its own committed plus two per READMIT_TURNS · n heights
  (under plain round-robin: one per turn).

The fold starts each window with everyone active and reads nothing older, so any two nodes that
hold the same window agree; it agrees with the fold over the whole chain because every validator
has a turn (an event) in every n heights of the window, and a window holds at most one stretch
of readmission heights.

At height h the candidates are taken in round-robin order from h, active ones first, then the
skipped ones; round r goes to candidate r mod n. So a crashed validator costs one timeoutPropose,
and every validator still proposes in some round of every height (liveness after GST needs that).

Readmission costs no turn: a validator that is back takes part in voting at once, and every
builder puts into its block one recent signed vote (`votestore.blocks.check_ready`: validly
signed, at most one per validator, for a height in h − READY_MAX_AGE .. h − 1) of each validator
the rule skips at that height from which it holds one. The vote is the validator's own signature,
so a builder cannot vouch for a validator that is still gone; a Byzantine builder can leave it
out, but the next correct builder (within f + 1 heights) puts it in.

Why a Byzantine validator cannot keep a correct one from proposing: the rule reads only the
builders and readiness votes of committed blocks, never which 2f+1 precommits a certificate
happens to hold (a Byzantine proposer chooses those); a fresh block must name its own proposer as
builder (no crediting a crashed validator); a correct validator whose round-0 turn comes after
GST gets its block committed in that round (its own prevote and the other correct validators'
make a quorum without any Byzantine vote), and one that missed a turn before GST is readmitted
by the next correct builder, or at the latest once its earlier readmission has left the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from node.consensus.config import ValidatorSet

RECENT_TURNS: Final = 3
"""The rule reads the last RECENT_TURNS · n committed blocks."""
READMIT_TURNS: Final = 16
"""Readiness votes count in the first n heights of every READMIT_TURNS · n (> RECENT_TURNS)."""


@dataclass(frozen=True, slots=True)
class Turn:
    """What the leader rule reads from one committed block."""

    builder: int
    ready: frozenset[tuple[int, int]] = frozenset()
    """(validator, height of the vote) for each readiness vote the block carries."""


def window(validators: ValidatorSet) -> int:
    """How many recent committed blocks the rule reads (heights h − window .. h − 1)."""
    return RECENT_TURNS * validators.size


def readmits(validators: ValidatorSet, height: int) -> bool:
    """Whether a readiness vote in block `height` readmits its validator."""
    return (height // validators.size) % READMIT_TURNS == 0


def active(validators: ValidatorSet, height: int, recent: Sequence[Turn]) -> frozenset[int]:
    """Validators the rule counts active at `height`. `recent` holds the turns of the committed
    blocks at heights height − len(recent) .. height − 1, oldest first; only the last `window`
    are read, so every caller that holds at least min(window, height − 1) of them agrees."""
    n = validators.size
    turns = tuple(recent)[-window(validators) :]
    first = height - len(turns)
    state = [True] * n
    credit: set[int] = set()  # built a block since its last quick readmission
    missed: dict[int, int] = {}  # a skipped validator -> the height whose turn it missed
    for offset, turn in enumerate(turns):
        x = first + offset
        owner = x % n
        if turn.builder != owner:
            if state[owner]:
                missed[owner] = x
            state[owner] = False
        state[turn.builder] = True
        credit.add(turn.builder)
        for v, voted in sorted(turn.ready):
            if v not in validators or state[v] or voted <= missed[v]:
                continue  # a vote up to the missed height says nothing of the validator after it
            if v in credit:
                credit.discard(v)
                state[v] = True
            elif readmits(validators, x):
                state[v] = True
    return frozenset(v for v in range(n) if state[v])


def ranked(validators: ValidatorSet, height: int, present: frozenset[int]) -> tuple[int, ...]:
    """Candidates at `height` in round order: round-robin from height, those in `present` first."""
    n = validators.size
    order = [(height + k) % n for k in range(n)]
    return tuple([v for v in order if v in present] + [v for v in order if v not in present])


def proposer(validators: ValidatorSet, height: int, round_: int, recent: Sequence[Turn]) -> int:
    """proposer(h, r), from the turns of the committed blocks just below h (see `active`)."""
    order = ranked(validators, height, active(validators, height, recent))
    return order[round_ % validators.size]
