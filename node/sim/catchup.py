"""Catch-up in the simulator, by the node's own rules: ask the peer `node.repair.plan_fetch`
chooses, check each block's certificate (and that it is the block the certificate names) before
the core sees it, judge the peer with `judge_fetch` — as `node/catchup.py` does, on virtual time
and the simulated network. And how a node answers a fetch (`serve_honestly`, or a Byzantine
`Serve`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from node.catchup import CATCHUP_TICK_S
from node.clock import Clock
from node.consensus import Decided, ValidatorSet, Verifier, verify_certificate
from node.repair import CatchupPeers, FetchPlan, Lag, judge_fetch, plan_fetch
from node.sim.blocks import CHAIN_ID, Committed
from node.sim.network import FetchReply, FetchRequest
from votestore.hashing import sha256

FETCH_TIMEOUT_S: Final = 1.0
"""A fetch with no answer by then failed (the node's GetBlocks to an unreachable peer fails)."""

Serve = Callable[[FetchRequest, list[Committed]], FetchReply | None]
"""How a node answers a catch-up fetch, given its chain: None sends nothing."""


def serve_honestly(request: FetchRequest, chain: list[Committed]) -> FetchReply | None:
    """GetBlocks: what this node holds of first..last."""
    held = chain[request.first - 1 : request.last]
    return FetchReply(request.first, tuple((c.certificate, c.payload) for c in held))


class Send(Protocol):
    def __call__(self, dst: int, message: FetchRequest) -> None: ...


class SimCatchup:
    """One incarnation's catch-up: its lag, its peer choice and the fetch in flight start empty,
    as in a node process. `decided` feeds a checked block to the core; `dropped` counts the
    blocks that failed and the peers set aside."""

    def __init__(
        self,
        *,
        clock: Clock,
        send: Send,
        heights: Callable[[], Mapping[int, int]],
        chain: list[Committed],
        validators: ValidatorSet,
        verifier: Verifier,
        decided: Callable[[Decided], None],
        dropped: Counter[str],
    ) -> None:
        self._clock = clock
        self._send = send
        self._heights = heights
        self._chain = chain
        self._validators = validators
        self._verifier = verifier
        self._decided = decided
        self._dropped = dropped
        self._lag = Lag()
        self._choice = CatchupPeers()
        self._fetching: FetchPlan | None = None

    def start(self) -> None:
        self._clock.call_later(CATCHUP_TICK_S, self._tick)

    def _tick(self) -> None:
        """As `node.catchup.catch_up_forever`: `catch_up_once` (fetch if `plan_fetch` says so),
        then CATCHUP_TICK_S after it is done, again."""
        plan = plan_fetch(self._lag, self._choice, self._heights(), len(self._chain), self._clock.now())
        if plan is None:
            self._clock.call_later(CATCHUP_TICK_S, self._tick)
            return
        self._fetching = plan
        self._send(plan.peer, FetchRequest(plan.first, plan.last))
        self._clock.call_later(FETCH_TIMEOUT_S, lambda: self._done(plan, 0, False))

    def fetched(self, src: int, reply: FetchReply) -> None:
        """Check each block before feeding it to the core, as `node.catchup.fetch_blocks` does."""
        plan = self._fetching
        if plan is None or plan.peer != src or reply.first != plan.first:
            return  # late, duplicated or unasked for
        served, bad = 0, False
        for certificate, payload in reply.blocks[: plan.asked]:
            height = plan.first + served
            if (
                certificate.height != height
                or sha256(payload) != certificate.block_id
                or not verify_certificate(certificate, CHAIN_ID, self._validators, self._verifier)
            ):
                self._dropped["catchup_bad_certificate"] += 1
                bad = True
                break
            if height == len(self._chain) + 1:
                self._decided(Decided(certificate, payload))
            served += 1
        self._done(plan, served, bad)

    def _done(self, plan: FetchPlan, served: int, bad: bool) -> None:
        if self._fetching is not plan:
            return
        self._fetching = None
        if judge_fetch(self._choice, plan, served, bad, self._clock.now()):
            self._dropped["catchup_peer_set_aside"] += 1
        self._clock.call_later(CATCHUP_TICK_S, self._tick)
