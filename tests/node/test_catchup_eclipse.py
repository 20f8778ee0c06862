"""Catch-up treats claimed heights as hints (issue 19): a peer claiming height 2^63 and serving
nothing cannot take every fetch, and one that fails is set aside for a while.

The first test drives `catch_up_forever` itself for two seconds, with the gRPC fetch replaced at
the module's boundary (this is a unit test of node/catchup.py): on main before this change the
liar got 19 fetches of 19.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from node import catchup
from node.repair import SET_ASIDE_MIN_S, CatchupPeers, fetch_failed, rotate
from tests.node.catchup_kit import catchup_shell

LIAR = 1
HONEST = (2, 3)
MINE = 10
HUGE = 2**63
RUN_S = 2.0


class _NoChannel:
    """Nothing to call: the fetch it would serve is replaced. Catch-up closes it when it stops."""

    async def close(self) -> None:
        return None


class _Dialer:
    def aio(self, peer: int, address: str, options: object) -> _NoChannel:
        return _NoChannel()


def test_a_peer_claiming_a_huge_height_and_serving_nothing_cannot_eclipse_catch_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: Counter[int] = Counter()

    async def fetch(shell: Any, peer: int, channel: object, first: int, last: int) -> tuple[int, bool]:
        asked[peer] += 1
        if peer == LIAR:
            return 0, False  # an empty stream
        return last - first + 1, False  # serves what it claims (this node's height stays put)

    monkeypatch.setattr(catchup, "fetch_blocks", fetch)
    shell = catchup_shell(MINE, {LIAR: HUGE, **{p: MINE + 5 for p in HONEST}})
    addresses = {p: f"127.0.0.1:{p}" for p in (LIAR, *HONEST)}

    async def run() -> None:
        with pytest.raises(TimeoutError):
            forever = catchup.catch_up_forever(shell, addresses, _Dialer())  # type: ignore[arg-type]
            await asyncio.wait_for(forever, RUN_S)

    asyncio.run(run())
    total = sum(asked.values())
    print(f"fetch attempts in {RUN_S} s: {dict(asked)} (liar {asked[LIAR]} of {total})")
    assert total >= 10
    assert asked[LIAR] <= 2, asked  # once, then set aside for 1 s, then 2 s
    assert all(asked[p] >= 4 for p in HONEST), asked


def test_eligible_peers_are_asked_in_rotation_whatever_they_claim() -> None:
    choice = CatchupPeers()
    heights = {1: HUGE, 2: MINE + 1, 3: MINE + 2, 4: MINE}  # 4 is not ahead
    assert [choice.choose(heights, MINE, 0.0) for _ in range(6)] == [1, 2, 3, 1, 2, 3]
    assert rotate([2, 5], last=5) == 2


def test_a_failed_peer_is_set_aside_with_a_growing_backoff_and_forgiven_once_it_serves() -> None:
    choice = CatchupPeers()
    heights = {1: HUGE, 2: MINE + 3}
    choice.failed(1, now=0.0)
    assert choice.eligible(heights, MINE, 0.0) == [2]
    assert choice.best(heights, MINE, 0.0) == MINE + 3  # the liar's claim no longer counts
    assert choice.eligible(heights, MINE, SET_ASIDE_MIN_S) == [1, 2]
    choice.failed(1, now=SET_ASIDE_MIN_S)
    assert choice.set_aside(SET_ASIDE_MIN_S * 2.5) == [1]  # twice as long the second time
    assert choice.eligible(heights, MINE, SET_ASIDE_MIN_S * 3) == [1, 2]
    choice.served(1)
    choice.failed(1, now=100.0)
    assert choice.eligible(heights, MINE, 100.0 + SET_ASIDE_MIN_S) == [1, 2]  # back to the first step
    assert choice.choose({1: MINE}, MINE, 200.0) is None  # nobody ahead


@pytest.mark.parametrize(
    ("asked", "served", "bad", "failed"),
    [
        (5, 5, False, False),  # served what it claimed
        (5, 0, False, True),  # an empty stream
        (5, 3, False, True),  # claimed a height it cannot serve
        (5, 2, True, True),  # a bad certificate after two good blocks
        (1, 1, False, False),
    ],
)
def test_what_counts_against_a_catch_up_peer(asked: int, served: int, bad: bool, failed: bool) -> None:
    assert fetch_failed(asked, served, bad) is failed
