"""The chaos harness's own parts, without a cluster: scheduler, stall arithmetic, links, proxy,
namespace fabric."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.chaos.fabric import HOST, links_between
from ops.chaos.monitor import Sample, longest_stall, resume_after
from ops.chaos.netns import NamespaceFabric, namespaces_possible
from ops.chaos.proxy import ProxyFabric
from ops.chaos.schedule import SPLIT_SIDE, TEST_TIMING, Kind, Scheduler

CONNECT_TIMEOUT_S = 2.0


@settings(deadline=None, max_examples=50)
@given(seed=st.integers(0, 2**32), n=st.integers(4, 10))
def test_scheduler_is_seeded_bounded_and_meets_every_kind(seed: int, n: int) -> None:
    first = [Scheduler(seed, n, TEST_TIMING).next() for _ in range(1)]
    one, two = Scheduler(seed, n, TEST_TIMING), Scheduler(seed, n, TEST_TIMING)
    faults = [one.next() for _ in range(3 * len(Kind))]
    assert faults == [two.next() for _ in range(3 * len(Kind))]
    assert faults[0] == first[0]
    assert Counter(f.kind for f in faults) == dict.fromkeys(Kind, 3)
    f = (n - 1) // 3
    for fault in faults:
        assert TEST_TIMING.hold_min_s <= fault.hold_s <= TEST_TIMING.hold_max_s
        assert all(0 <= i < n for i in fault.nodes) and len(set(fault.nodes)) == len(fault.nodes)
        expected = {Kind.GATEWAY: 0, Kind.SPLIT: SPLIT_SIDE}.get(fault.kind, 1)
        assert len(fault.nodes) == expected and (fault.kind == Kind.SPLIT or len(fault.nodes) <= f)


def test_scheduler_draws_only_the_kinds_asked_for() -> None:
    scheduler = Scheduler(5, 4, TEST_TIMING, frozenset({Kind.KILL, Kind.PAUSE}))
    assert {scheduler.next().kind for _ in range(20)} == {Kind.KILL, Kind.PAUSE}


def _samples(*rows: tuple[float, int | None]) -> list[Sample]:
    return [Sample(at, (height, None)) for at, height in rows]


@pytest.mark.parametrize(
    ("rows", "stall", "at"),
    [
        ([(0.0, 1)], 0.0, 0.0),
        ([(0.0, 1), (1.0, 2), (2.0, 3)], 0.0, 0.0),
        ([(0.0, 1), (1.0, 1), (5.0, 1), (6.0, 2), (7.0, 2)], 5.0, 0.0),
        ([(0.0, 1), (1.0, 2), (2.0, None), (4.0, 2), (4.5, 3)], 3.0, 1.0),
    ],
)
def test_longest_stall(rows: list[tuple[float, int | None]], stall: float, at: float) -> None:
    assert longest_stall(_samples(*rows)) == (stall, at)


@pytest.mark.parametrize(
    ("healed", "resume"),
    [(0.5, 0.5), (1.0, 3.0), (3.0, 1.0), (4.0, None)],
)
def test_resume_after(healed: float, resume: float | None) -> None:
    samples = _samples((0.0, 1), (1.0, 2), (2.0, 2), (4.0, 3))
    assert resume_after(samples, healed) == resume


def test_links_between_cross_the_cut_once() -> None:
    nodes = frozenset(range(4))
    assert links_between(frozenset({1, 2}), nodes) == [(1, 0), (1, 3), (2, 0), (2, 3)]
    assert links_between(frozenset({3}), nodes | {HOST}) == [(3, HOST), (3, 0), (3, 1), (3, 2)]


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A one-connection-at-a-time echo server on loopback (a child process)."""
    code = (
        "import socket,sys\n"
        "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n"
        "print(s.getsockname()[1], flush=True)\n"
        "while True:\n"
        "    c,_=s.accept()\n"
        "    while (d:=c.recv(65536)): c.sendall(d)\n"
        "    c.close()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield int(child.stdout.readline())
    finally:
        child.kill()
        child.wait()


def _echo(address: str, payload: bytes) -> bytes:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), CONNECT_TIMEOUT_S) as conn:
        conn.settimeout(CONNECT_TIMEOUT_S)
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_proxy_forwards_cuts_and_heals(echo_port: int) -> None:
    fabric = ProxyFabric.create([echo_port] * 4)
    closed_port = fabric.address(0)
    try:
        payload = os.urandom(200_000)
        assert _echo(fabric.address(0), payload) == payload
        assert set(fabric.peers(1)) == {0, 2, 3}
        fabric.cut(1, HOST)
        with pytest.raises(OSError):
            _echo(fabric.address(1), b"x")
        assert _echo(fabric.address(2), b"still") == b"still"
        fabric.heal(1, HOST)
        assert _echo(fabric.address(1), b"back") == b"back"
    finally:
        fabric.close()
    with pytest.raises(OSError):
        _echo(closed_port, b"x")


needs_namespaces = pytest.mark.skipif(
    namespaces_possible() is not None, reason=f"namespaces: {namespaces_possible()}"
)


def _namespace_state() -> tuple[str, str]:
    spaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return spaces, links


@needs_namespaces
def test_namespace_fabric_cuts_heals_and_leaves_nothing_behind() -> None:
    before = _namespace_state()
    fabric = NamespaceFabric.create(2)
    try:
        code = (
            "import socket; s=socket.socket(); s.bind(('0.0.0.0',7000)); s.listen(1); "
            "print('up',flush=True); c,_=s.accept(); c.sendall(b'hi'); c.recv(1)"
        )
        server = subprocess.Popen(
            [*fabric.command_prefix(0), sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "up"
            fabric.cut(0, HOST)
            with pytest.raises(OSError):
                socket.create_connection((fabric.ip(0), 7000), 1.0)
            fabric.heal(0, HOST)
            with socket.create_connection((fabric.ip(0), 7000), CONNECT_TIMEOUT_S) as conn:
                conn.settimeout(CONNECT_TIMEOUT_S)
                assert conn.recv(2) == b"hi"
        finally:
            server.kill()
            server.wait()
        fabric.cut(1, HOST)
    finally:
        fabric.close()
    assert _namespace_state() == before
