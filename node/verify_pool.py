"""Proof-checking worker processes, each fed through a socket of its own that the event loop reads.

A call is one length-prefixed frame written to a worker's socket and its answer is read by the
loop's own selector: nothing runs in the node but the loop, nothing in a worker but the checks, and
no helper thread shares the cores the workers need (why not `ProcessPoolExecutor`, with figures:
docs/benchmarks.md, "Figures that left the docstrings").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
from collections import deque
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor
from typing import Final

from election.stateless import ElectionParams, verify_tx_handover
from proto.votestore.v1 import election_pb2

log = logging.getLogger("votestore.node")

FRAME: Final = struct.Struct(">I")
"""Each request and answer: its length, then a pickle (both ends are this node's own code)."""
MAX_ANSWER_BYTES: Final = 64 * 1024 * 1024
"""An answer is a few KiB a transaction; a longer frame means the stream is out of step."""
STOP_WAIT_S: Final = 2.0
"""How long `close` waits for a worker to leave on its own (it does on end of input) before
terminating it."""

Item = tuple[bytes, ElectionParams | None]
"""A transaction and the parameters of its election, as `verify_tx_handover` takes them."""
Answer = tuple[election_pb2.TxResult, bytes]
"""`verify_tx_handover`'s result: the stateless result and an OK ballot's handed-over points."""


class PoolBroken(BrokenExecutor):
    """A worker is gone (it died, or the pool was closed): its checks will not be answered."""


class CheckFailed(Exception):
    """A check raised in the worker instead of answering (a bug: the checks refuse bad input)."""


def _answer(chain_id: str, request: bytes) -> bytes:
    """A worker's reply to one request frame."""
    try:
        items: list[Item] = pickle.loads(request)
        answers = []
        for raw, params in items:
            result, points = verify_tx_handover(chain_id, raw, params)
            answers.append((result.code, result.detail, points))
        reply: tuple[bool, object] = (True, answers)
    except Exception as exc:  # noqa: BLE001  # a bug in a check: its callers get it, the worker stays
        reply = (False, f"{type(exc).__name__}: {exc}")
    payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(payload)) + payload


def _serve(sock: socket.socket, chain_id: str) -> None:
    """A worker's life: answer each request in order until the node closes its end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the node, which closes the socket
    with sock, sock.makefile("rb") as stream:
        while True:
            header = stream.read(FRAME.size)
            if len(header) < FRAME.size:
                return  # end of input: the node is stopping (or gone)
            (size,) = FRAME.unpack(header)
            request = stream.read(size)
            if len(request) < size:
                return
            try:
                sock.sendall(_answer(chain_id, request))
            except OSError:  # the node closed its end while this batch ran: it is stopping
                return


class _Link(asyncio.Protocol):
    """The node's end of one worker's socket: requests out in order, answers back in that order."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[list[Answer]]] = deque()
        self.lost = False
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, items: Sequence[Item], future: asyncio.Future[list[Answer]]) -> None:
        assert self.transport is not None and not self.lost
        payload = pickle.dumps(list(items), protocol=pickle.HIGHEST_PROTOCOL)
        self.transport.write(FRAME.pack(len(payload)) + payload)
        self.waiting.append(future)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= FRAME.size:
            (size,) = FRAME.unpack_from(self._buffer)
            if size > MAX_ANSWER_BYTES or not self.waiting:
                log.error("event=verify_worker_out_of_step frame_bytes=%d", size)
                assert self.transport is not None
                self.transport.abort()  # connection_lost fails what waits
                return
            end = FRAME.size + size
            if len(self._buffer) < end:
                return
            payload = bytes(self._buffer[FRAME.size : end])
            del self._buffer[:end]
            _settle(self.waiting.popleft(), payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(PoolBroken("a verify worker is gone"))


def _settle(future: asyncio.Future[list[Answer]], payload: bytes) -> None:
    if future.done():  # its caller was cancelled (the node is stopping)
        return
    answered, body = pickle.loads(payload)
    if answered:
        future.set_result(
            [(election_pb2.TxResult(code=code, detail=detail), points) for code, detail, points in body]
        )
    else:
        future.set_exception(CheckFailed(body))


class VerifyPool:
    """`workers` processes running `verify_tx_handover` over batches, started by `start`."""

    def __init__(self, links: list[_Link], processes: list[multiprocessing.process.BaseProcess]) -> None:
        assert links and len(links) == len(processes)
        self._links = links
        self._processes = processes
        self._closed = False

    @classmethod
    async def start(cls, chain_id: str, workers: int) -> VerifyPool:
        """Spawn the workers (not fork: the node's gRPC threads must not be copied) and connect."""
        assert workers > 0, workers
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        links: list[_Link] = []
        processes: list[multiprocessing.process.BaseProcess] = []
        for _ in range(workers):
            ours, theirs = socket.socketpair()
            process = context.Process(
                target=_serve, args=(theirs, chain_id), name="votestore-verify", daemon=True
            )
            process.start()
            theirs.close()
            _, link = await loop.create_unix_connection(_Link, sock=ours)
            links.append(link)
            processes.append(process)
        return cls(links, processes)

    @property
    def workers(self) -> int:
        return len(self._links)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def submit(self, items: Sequence[Item]) -> asyncio.Future[list[Answer]]:
        """Check `items` on the worker with the fewest batches waiting; the future fails with
        PoolBroken if that worker goes, CheckFailed if a check raised. Raises PoolBroken when the
        pool is closed or a worker is gone (the pool does not restart workers)."""
        if self._closed or any(link.lost for link in self._links):
            raise PoolBroken("the verify pool is closed or lost a worker")
        link = min(self._links, key=lambda candidate: len(candidate.waiting))
        future: asyncio.Future[list[Answer]] = asyncio.get_running_loop().create_future()
        link.send(items, future)
        return future

    async def close(self) -> None:
        """Close every socket (a worker leaves at end of input), then wait for the workers."""
        self._closed = True
        for link in self._links:
            if link.transport is not None:
                link.transport.close()
        loop = asyncio.get_running_loop()
        for process in self._processes:
            await loop.run_in_executor(None, process.join, STOP_WAIT_S)
            if process.is_alive():
                process.terminate()
                await loop.run_in_executor(None, process.join, STOP_WAIT_S)
            with contextlib.suppress(ValueError):
                process.close()
