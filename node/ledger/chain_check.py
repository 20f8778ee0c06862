"""The checks of a stored chain: every block from genesis (`check_chain`, the offline
`votestore node check`), the start-up check whose cost must not grow with the chain
(`check_start`), and the running node's check behind its tip (`check_ahead`).

One per-height rule (`_check_height`): the block against its stored parent (`check_child`, the
one header check), its certificate (the one certificate check), its results count and its app
hash record. The start-up check reads the blocks above the recorded check (`k/checked`: height
and block id the last successful check reached), that the record still matches its block, the
tip's app hash, and a fixed number of older heights drawn at random, so old damage still has a
chance to be found at start; a running node moves the record up behind its tip a few blocks at a
time (node.ledger.check_ahead), so a start after months of running is no dearer than one after a
day. A damaged store is refused with the height at fault (StoreCorrupted).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from node.ledger.tip import Tip, check_child
from votestore.blocks import BlockInvalid, results_root
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id
from votestore.errors import StoreCorrupted

if TYPE_CHECKING:
    from node.ledger.store import Store

SPOT_CHECKS: Final = 64
"""Older heights the start-up check re-checks, drawn afresh at each start (a fixed cost)."""


@dataclass(frozen=True, slots=True)
class StartCheck:
    """What a start-up check read: whether it checked the whole chain, the heights above the
    record, and the older heights it spot-checked."""

    full: bool
    above: tuple[int, ...]
    spots: tuple[int, ...]


def _record(checked: Tip) -> bytes:
    return struct.pack(">Q", checked.height) + checked.block_id.ljust(32, b"\0")


class ChainCheck:
    """The checks of one open store; reads only, but for the check record."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def check_chain(self) -> Iterator[int]:
        """Check every stored block from genesis (links, roots, certificate, results count, app
        hash record) and the application's app hash against the tip; yield each height checked
        (for progress), raise StoreCorrupted naming the first height at fault. Reads only."""
        parent = self._store.genesis_tip()
        keys = self._store.genesis.validator_keys()
        for height in range(1, self._store.height + 1):
            parent = self._check_height(parent, height, keys)
            yield height
        self._check_app_state(parent)

    def check_whole(self) -> int:
        """check_chain, then record the tip as checked (`votestore node check`, and a start
        without a usable record); return the number of blocks checked. Recording lets an
        operator run the long check on a stopped node, without a startupProbe's limit, before
        the first start on a store that has no record yet."""
        checked = sum(1 for _ in self.check_chain())
        self.record_tip()
        return checked

    def record_tip(self) -> None:
        """Record the tip as checked: only after a check of the whole chain passed."""
        self._record_check(self._store.tip, sync=True)

    def check_start(self, spot_checks: int = SPOT_CHECKS, rng: random.Random | None = None) -> StartCheck:
        """The node's start-up check: the heights above the recorded check, the record against
        its block, the tip's app hash, and `spot_checks` older heights against their parents;
        then record the tip as checked. Without a record (a new store, or one from before the
        record existed), or with a record that no longer matches the stored chain, it checks the
        whole chain: the record only saves work, so a record that disagrees is not trusted to
        skip anything, and a store whose blocks all check is not refused for a damaged record."""
        keys = self._store.genesis.validator_keys()
        checked_to = self._recorded_check()
        if checked_to is None:
            self.check_whole()
            return StartCheck(full=True, above=tuple(range(1, self._store.height + 1)), spots=())
        above = tuple(range(checked_to + 1, self._store.height + 1))
        self._check_app_state(self._check_above(checked_to, self._store.height, keys))
        population = range(1, checked_to + 1)
        spots = tuple(sorted((rng or random.SystemRandom()).sample(population, min(spot_checks, checked_to))))
        for height in spots:
            self._check_height(self._store.tip_at(height - 1), height, keys)
        self._record_check(self._store.tip, sync=True)
        return StartCheck(full=False, above=above, spots=spots)

    def check_ahead(self, max_blocks: int) -> int:
        """Check up to `max_blocks` stored blocks above the recorded check and move the record up
        to the last of them; return how many were checked. Does nothing without a record that
        matches the chain (check_start leaves one). Raises StoreCorrupted naming the height at
        fault, the record left below it, so the next start refuses the store."""
        checked_to = self._recorded_check()
        if checked_to is None:
            return 0
        last = min(self._store.height, checked_to + max_blocks)
        if last > checked_to:
            # Not synced: a record lost in a crash is an older one, which still matches its block.
            self._record_check(
                self._check_above(checked_to, last, self._store.genesis.validator_keys()), sync=False
            )
        return last - checked_to

    @property
    def checked_height(self) -> int:
        """The height the recorded check reaches (0 without a record that matches the chain)."""
        return self._recorded_check() or 0

    def _recorded_check(self) -> int | None:
        """The height the record names, if the record is well formed, not above the stored tip,
        and names the stored block at its height; else None (check everything)."""
        raw = self._store.check_record()
        if raw is None or len(raw) != 8 + 32:
            return None
        height = struct.unpack(">Q", raw[:8])[0]
        if height > self._store.height:
            return None
        if height and block_id(self._store.block(height).header) != raw[8:]:
            return None
        return int(height)

    def _record_check(self, checked: Tip, *, sync: bool) -> None:
        self._store.put_check_record(_record(checked), sync=sync)

    def _check_above(self, checked_to: int, last: int, keys: Sequence[bytes]) -> Tip:
        """Check heights checked_to+1..last, each against the one before, starting from the
        stored block at `checked_to` (checked before); return the tip at `last`."""
        parent = self._store.tip_at(checked_to)
        for height in range(checked_to + 1, last + 1):
            parent = self._check_height(parent, height, keys)
        return parent

    def check_one(self, parent: Tip, height: int, keys: Sequence[bytes]) -> Tip:
        """The per-height rule for one height (the offline walk, node.ledger.walk)."""
        return self._check_height(parent, height, keys)

    def _check_height(self, parent: Tip, height: int, keys: Sequence[bytes]) -> Tip:
        """Check the stored block at `height` as the child of `parent` (links, roots, its
        certificate, its results count, its app hash record); return what its child links to."""
        block = self._store.block(height)
        try:
            identity = check_child(self._store.genesis, parent, block)
            verify_certificate(
                self._store.genesis.chain_id,
                keys,
                self._store.certificate(height),
                block_id=identity,
                height=height,
            )
        except (BlockInvalid, CertificateInvalid) as exc:
            raise StoreCorrupted(height, str(exc)) from None
        results = self._store.results(height)
        if len(results) != len(block.txs):
            raise StoreCorrupted(height, f"{len(results)} results for {len(block.txs)} transactions")
        return Tip(
            height, identity, block.header.time_ms, self._store.app_hash_at(height), results_root(results)
        )

    def _check_app_state(self, tip: Tip) -> None:
        if self._store.height and self._store.app_state_hash() != tip.app_hash:
            raise StoreCorrupted(self._store.height, "application state's app hash differs from the chain's")
