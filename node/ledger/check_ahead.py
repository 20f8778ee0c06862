"""The running node's share of the start-up check: it moves the store's recorded check up behind
its tip, a few blocks at a time, so the next start has only the blocks since the last move to
check, however long the node ran (issue 19 item 8: a startupProbe that holds for a year)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from node.ledger.store import Store
from votestore.errors import StoreCorrupted

PERIOD_S: Final = 1.0
MAX_BLOCKS: Final = 32
"""Blocks checked per period: well above the block rate, and at 0.2–0.9 ms a block a pause of
the event loop short beside a consensus timeout."""

log = logging.getLogger(__name__)


async def keep_checking(
    store: Store,
    period_s: float = PERIOD_S,
    max_blocks: int = MAX_BLOCKS,
    report: Callable[[int], None] = lambda _: None,
    on_damage: Callable[[StoreCorrupted], None] | None = None,
) -> None:
    """Until cancelled, or until damage is found: then the record stays below it and `on_damage`
    hears of it (the node marks the store and stops, node.ledger.damage); without `on_damage`
    it is logged once with its height, and the next start refuses the store naming that height.
    `report` gets the height the record reaches after each period (the node's metric)."""
    while True:
        await asyncio.sleep(period_s)
        try:
            store.check_ahead(max_blocks)
        except StoreCorrupted as exc:
            if on_damage is None:
                log.error("event=store_corrupted height=%d why=%s", exc.height, exc.why)
            else:
                on_damage(exc)
            return
        report(store.checked_height)
