"""Catch-up dials each peer once (issue 19): under TLS every new channel is a handshake, and a
node behind fetches again and again. A unit test of node/catchup.py: the dialer counts the
channels it makes and the fetch is replaced at the module's boundary, as in
test_catchup_eclipse.py; tests/node/test_catchup_tls_dials.py counts real connections. On main
before this change every fetch dialled a channel of its own (and closed it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from node import catchup
from node.rpc.peer_options import CHANNEL_OPTIONS
from tests.node.catchup_kit import catchup_shell

MINE = 10
PEERS = (1, 2)
RUN_S = 1.0


@dataclass(eq=False)
class _Channel:
    peer: int
    closed: int = 0

    async def close(self) -> None:
        self.closed += 1


@dataclass
class _Dialer:
    made: list[_Channel] = field(default_factory=list)

    def aio(self, peer: int, address: str, options: object) -> _Channel:
        assert address == f"127.0.0.1:{peer}"
        assert options is CHANNEL_OPTIONS
        self.made.append(_Channel(peer))
        return self.made[-1]


def test_each_peer_is_dialled_once_for_many_fetches_and_closed_when_catch_up_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetched: list[tuple[int, _Channel]] = []

    async def fetch(shell: Any, peer: int, channel: _Channel, first: int, last: int) -> tuple[int, bool]:
        assert channel.closed == 0, "a fetch got a closed channel"
        fetched.append((peer, channel))
        return last - first + 1, False  # serves what it claims (this node's height stays put)

    monkeypatch.setattr(catchup, "fetch_blocks", fetch)
    shell = catchup_shell(MINE, dict.fromkeys(PEERS, MINE + 5))
    dialer = _Dialer()

    async def run() -> None:
        with pytest.raises(TimeoutError):
            forever = catchup.catch_up_forever(shell, {p: f"127.0.0.1:{p}" for p in PEERS}, dialer)  # type: ignore[arg-type]
            await asyncio.wait_for(forever, RUN_S)

    asyncio.run(run())
    asked = Counter(peer for peer, _ in fetched)
    print(f"fetches in {RUN_S} s: {dict(asked)}; channels dialled: {len(dialer.made)}")
    assert all(asked[p] >= 3 for p in PEERS), asked
    assert sorted(c.peer for c in dialer.made) == list(PEERS)  # one each, however many fetches
    assert all(channel is dialer.made[PEERS.index(peer)] for peer, channel in fetched)
    assert [c.closed for c in dialer.made] == [1, 1]  # when the task ended, not before
