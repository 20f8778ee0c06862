"""Who proposes at (height, round): round-robin that skips validators absent from the recent
chain, decided by the certified chain alone so every correct validator picks the same one.

The signal is which validator built each recently committed block (its header names it; a
re-proposed block keeps its builder, so every node records the same one, whatever round it saw
the decision in): a validator whose block was committed within the last `RECENT_TURNS` turns
(RECENT_TURNS · n heights) is *active*. At
height h the candidates are taken in round-robin order from h, active ones first, then the
others; round r goes to candidate r mod n. So a crashed or silent validator stops costing
timeoutPropose at each of its turns once its last committed block leaves the window, and every
validator still proposes in some round of every height (liveness after GST needs that).

Why a Byzantine validator cannot keep a correct one from proposing: the rule reads only the
builders of committed blocks, never which 2f+1 precommits a certificate happens to hold (a
Byzantine proposer chooses those), and a fresh block must name its own proposer as builder (a
Byzantine proposer cannot credit a crashed validator to keep it in turn). A correct validator
whose round-0 turn comes after GST gets its block committed in that round — its own prevote and
the other correct validators' make a quorum without any Byzantine vote — so it stays active for
as long as it is timely.

A skipped validator comes back through *probation*: during the first n heights of every
`PROBATION_TURNS` · n, plain round-robin applies (every validator has one round-0 turn), and a
skipped validator that proposes in its probation turn is active again. A probation turn of a
skipped validator waits only `PROBATION_TIMEOUT_MS` before prevoting nil, and as long after 2f+1
precommits before round 1: a validator that is back answers well within it, one that is still
gone costs about twice that, not timeoutPropose + timeoutPrecommit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from node.consensus.config import ValidatorSet

RECENT_TURNS: Final = 3
"""A validator is active if it proposed a committed block within the last RECENT_TURNS · n heights."""
PROBATION_TURNS: Final = 16
"""Every PROBATION_TURNS · n heights, n heights of plain round-robin let skipped validators back."""
PROBATION_TIMEOUT_MS: Final = 500
"""timeoutPropose and timeoutPrecommit at a skipped validator's probation turn (round 0 only)."""


def window(validators: ValidatorSet) -> int:
    """How many recent committed proposers the rule reads (heights h − window .. h − 1)."""
    return RECENT_TURNS * validators.size


def is_probation_height(validators: ValidatorSet, height: int) -> bool:
    return (height // validators.size) % PROBATION_TURNS == 0


def active(validators: ValidatorSet, recent: Sequence[int]) -> frozenset[int] | None:
    """Validators that proposed a committed block in the window; None while the chain (or the
    history the caller holds) is shorter than the window: then everyone counts as active."""
    span = window(validators)
    if len(recent) < span:
        return None
    return frozenset(tuple(recent)[-span:])


def proposer(validators: ValidatorSet, height: int, round_: int, recent: Sequence[int]) -> int:
    """proposer(h, r). `recent` lists the proposers of the committed blocks at heights
    h − len(recent) .. h − 1, oldest first (any length; only the last `window` are read)."""
    n = validators.size
    order = [(height + k) % n for k in range(n)]
    present = active(validators, recent)
    if present is None or is_probation_height(validators, height):
        return order[round_ % n]
    ranked = [v for v in order if v in present] + [v for v in order if v not in present]
    return ranked[round_ % n]


def is_probation_turn(validators: ValidatorSet, height: int, round_: int, recent: Sequence[int]) -> bool:
    """Round 0 of a probation height whose proposer the rule would otherwise skip."""
    if round_ != 0 or not is_probation_height(validators, height):
        return False
    present = active(validators, recent)
    return present is not None and proposer(validators, height, 0, recent) not in present
