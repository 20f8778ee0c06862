"""Pending transactions and everything cached about them, in one owner.

What is kept, by transaction hash:

- the mempool entry (raw bytes, waiting for a block);
- `verified`: passed the stateless check here (signatures, proofs), bounded by VERIFIED_CACHE_TXS;
- `tally_points`: a ballot's points as the verify worker decoded them;
- `decoded`: the transaction as intake decoded it;
- `voter_of`: a pending ballot's voter credential key, to drop that voter's other ballots once
  one of them is committed.

The rule — what may exist only with what — is asserted by `check` (and, for the hashes a change
touches, at that change):

- points only with a verified hash (`execute_tx` asserts it; 0db49bb broke this once: a hash
  evicted from `verified` kept its points and would have stopped the node);
- points and decoded only for a transaction in the mempool or in the block being applied
  (`keep_for_block`), else they would outlive it;
- a voter note only for a transaction in the mempool.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from typing import Final

from node.intake import Arrival
from node.mempool import Mempool
from votestore.encoding import DecodedTx

VERIFIED_CACHE_TXS: Final = 1_000_000
TALLY_POINTS_TXS: Final = 20_000
"""Pending ballots whose points the verify worker handed over are kept (2 KiB each for 4 choices:
40 MiB at most); beyond this, a ballot's points are decoded again when its block executes."""
DECODED_TXS: Final = 4_096
"""Pending transactions kept decoded as intake decoded them, for their block's execution (about
7 KiB a 4-choice ballot: 28 MiB at most); beyond this, a transaction is decoded again then."""


class PendingTxs:
    """The mempool and its caches; the only code that adds to or drops from any of them."""

    def __init__(self, max_txs: int, max_bytes: int) -> None:
        self._mempool = Mempool(max_txs, max_bytes)
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._tally_points: dict[bytes, bytes] = {}
        self._decoded: dict[bytes, DecodedTx] = {}
        self._voter_of: dict[bytes, bytes] = {}
        self._in_block: set[bytes] = set()  # the decided block's hashes, while it is applied

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._mempool)

    def __contains__(self, h: bytes) -> bool:
        return h in self._mempool

    @property
    def size_bytes(self) -> int:
        return self._mempool.size_bytes

    def get(self, h: bytes) -> bytes | None:
        return self._mempool.get(h)

    def reap(self, max_txs: int, max_bytes: int) -> list[bytes]:
        return self._mempool.reap(max_txs, max_bytes)

    def is_verified(self, h: bytes) -> bool:
        return h in self._verified

    @property
    def verified(self) -> Collection[bytes]:
        return self._verified.keys()

    @property
    def tally_points(self) -> Mapping[bytes, bytes]:
        return self._tally_points

    @property
    def decoded(self) -> Mapping[bytes, DecodedTx]:
        return self._decoded

    # ------------------------------------------------------------------ changing

    def add(self, arrival: Arrival, points: bytes) -> bool:
        """Keep a transaction that passed its checks, with what intake learnt of it; False if it
        was here already. Raises MempoolFull at the bound. Points come only with a hash
        remembered as verified."""
        h = arrival.tx_hash
        if not self._mempool.add(h, arrival.raw):
            return False
        self._keep(arrival, points)
        if arrival.kind == "ballot":
            self._voter_of[h] = arrival.signer
        return True

    def keep_for_block(self, arrival: Arrival) -> None:
        """A transaction of the decided block, checked now for its execution: keep it decoded
        until `applied` forgets the block."""
        self._in_block.add(arrival.tx_hash)
        self._keep(arrival, b"")

    def keep_points(self, h: bytes, points: bytes) -> None:
        """A verified transaction's handed-over points, for its block (mempool or decided block)."""
        assert h in self._mempool or h in self._in_block, "points outliving their transaction"
        self._keep_points(h, points)

    def remember_verified(self, h: bytes) -> None:
        self._verified[h] = None
        while len(self._verified) > VERIFIED_CACHE_TXS:
            oldest, _ = self._verified.popitem(last=False)
            # points go only with a verified hash (execute_tx asserts it): that ballot is decoded
            # and checked again in its block
            self._tally_points.pop(oldest, None)

    def applied(self, hashes: Iterable[bytes]) -> None:
        """A block holding `hashes` is committed: forget them, and every other pending ballot of
        a voter who had one in it (the election took one; the others can only be refused)."""
        hashes = list(hashes)
        voters = {self._voter_of.get(h) for h in hashes} - {None}
        self.forget(hashes)
        if voters:
            self.forget([h for h, voter in self._voter_of.items() if voter in voters])
        self._in_block.clear()

    def forget(self, hashes: Iterable[bytes]) -> None:
        hashes = list(hashes)
        self._mempool.remove(hashes)
        for h in hashes:
            self._voter_of.pop(h, None)
            self._verified.pop(h, None)
            self._tally_points.pop(h, None)
            self._decoded.pop(h, None)
            self._in_block.discard(h)

    def check(self) -> None:
        """Assert the rule (the module docstring) over everything held."""
        held = self._in_block | self._mempool.hashes()
        assert self._tally_points.keys() <= self._verified.keys(), "points without a verified hash"
        assert self._tally_points.keys() <= held, "points outliving their transaction"
        assert self._decoded.keys() <= held, "a decoded transaction outliving it"
        assert self._voter_of.keys() <= self._mempool.hashes(), "a voter note without its ballot"

    def _keep(self, arrival: Arrival, points: bytes) -> None:
        if arrival.decoded is not None and len(self._decoded) < DECODED_TXS:
            self._decoded[arrival.tx_hash] = arrival.decoded
        self._keep_points(arrival.tx_hash, points)

    def _keep_points(self, h: bytes, points: bytes) -> None:
        if points and len(self._tally_points) < TALLY_POINTS_TXS:
            assert h in self._verified, "points come only with a verified hash"
            self._tally_points[h] = points
