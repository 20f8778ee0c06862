"""When catch-up fetches: two blocks behind at once, one behind only after the grace at that
height."""

from __future__ import annotations

from node.repair import ONE_BEHIND_GRACE_S, CatchupPeers, Lag, plan_fetch


def test_two_behind_fetches_at_once() -> None:
    assert Lag().fetch_due(mine=5, best=7, now=0.0)


def test_nothing_ahead_never_fetches() -> None:
    lag = Lag()
    assert not lag.fetch_due(mine=5, best=5, now=0.0)
    assert not lag.fetch_due(mine=5, best=4, now=100.0)


def test_one_behind_at_one_height_fetches_after_the_grace() -> None:
    lag = Lag()
    assert not lag.fetch_due(mine=5, best=6, now=10.0)
    assert not lag.fetch_due(mine=5, best=6, now=10.0 + ONE_BEHIND_GRACE_S * 0.9)
    assert lag.fetch_due(mine=5, best=6, now=10.0 + ONE_BEHIND_GRACE_S)


def test_one_behind_while_committing_each_height_never_fetches() -> None:
    """A validator always one block behind its fastest peer but committing every height itself:
    the grace starts again at each of its heights."""
    lag = Lag()
    step = ONE_BEHIND_GRACE_S / 2
    for tick in range(40):
        mine = tick // 2  # commits a height every two ticks
        assert not lag.fetch_due(mine=mine, best=mine + 1, now=tick * step * 0.99)


def test_a_tick_with_nobody_ahead_restarts_the_grace() -> None:
    lag = Lag()
    assert not lag.fetch_due(mine=5, best=6, now=0.0)
    assert not lag.fetch_due(mine=5, best=5, now=ONE_BEHIND_GRACE_S * 0.5)
    assert not lag.fetch_due(mine=5, best=6, now=ONE_BEHIND_GRACE_S * 1.25)
    assert not lag.fetch_due(mine=5, best=6, now=ONE_BEHIND_GRACE_S * 2.0)
    assert lag.fetch_due(mine=5, best=6, now=ONE_BEHIND_GRACE_S * 2.25)


def test_one_behind_right_after_a_fetch_fetches_at_once() -> None:
    """Its last block came by fetch: while further behind it dropped the next height's messages
    (the core keeps only height + 1), and peers that moved on send them no more — waiting out the
    grace there cost the others a timeout at each of its proposer turns (sim, amnesia, seed 13)."""
    lag, choice = Lag(), CatchupPeers()
    plan = plan_fetch(lag, choice, {1: 8, 2: 8}, mine=5, now=0.0)
    assert plan is not None and (plan.first, plan.last) == (6, 8)
    assert lag.fetch_due(mine=8, best=9, now=0.1)  # served 6..8; the others committed 9 meanwhile
    assert not lag.fetch_due(mine=9, best=10, now=0.2)  # 9 committed by consensus: the grace again
