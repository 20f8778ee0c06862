"""A fault-injecting TCP proxy: the loopback stand-in for namespaces when they cannot be made.

Every directed link (dialler → node) gets its own listening port that forwards to the node, so a link
can be cut without touching the others: a node dials its peers' peer ports through `peers`
overrides in its config, and HOST dials the genesis `api_address`, which is HOST's own proxy port
to the node's public API. A cut link closes its open
connections and drops every new one at once. (No delay: nothing here needs one yet.)

The proxy runs its own asyncio loop in one background thread; the caller's thread only hands it
commands through `run_coroutine_threadsafe`, so no state is shared outside the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from ops.chaos.fabric import HOST

LOOPBACK: Final = "127.0.0.1"
CHUNK_BYTES: Final = 64 * 1024
COMMAND_TIMEOUT_S: Final = 10.0
T = TypeVar("T")


@dataclass
class _Link:
    target_port: int
    server: asyncio.Server | None = None
    cut: bool = False
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    forwarded: int = 0
    """Connections forwarded so far (under TLS, each one a handshake)."""


class ProxyFabric:
    """`ProxyFabric.create(node_ports, api_ports)`: node i's peer port is 127.0.0.1:node_ports[i],
    its public API 127.0.0.1:api_ports[i] (the same ports when none are given)."""

    mode = "loopback-proxy"

    def __init__(self, node_ports: list[int], api_ports: list[int] | None = None) -> None:
        self._node_ports = node_ports
        self._api_ports = node_ports if api_ports is None else api_ports
        self._links: dict[tuple[int, int], _Link] = {}
        self._ports: dict[tuple[int, int], int] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy", daemon=True)
        self._thread.start()
        self.cuts: set[tuple[int, int]] = set()

    @classmethod
    def create(cls, node_ports: list[int], api_ports: list[int] | None = None) -> ProxyFabric:
        fabric = cls(node_ports, api_ports)
        try:
            for dialler in [HOST, *range(len(node_ports))]:
                for node in range(len(node_ports)):
                    if dialler != node:
                        fabric._ports[(dialler, node)] = fabric._run(fabric._open(dialler, node))
        except BaseException:
            fabric.close()
            raise
        return fabric

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert threading.current_thread() is not self._thread
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(COMMAND_TIMEOUT_S)

    # ------------------------------------------------------------------ in the proxy's loop

    async def _open(self, dialler: int, node: int) -> int:
        link = _Link((self._api_ports if dialler == HOST else self._node_ports)[node])
        self._links[(dialler, node)] = link

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._serve(link, reader, writer)

        link.server = await asyncio.start_server(serve, LOOPBACK, 0)
        port: int = link.server.sockets[0].getsockname()[1]
        return port

    async def _serve(self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if link.cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, link.target_port)
        except OSError:
            writer.transport.abort()
            return
        link.forwarded += 1
        link.writers.update((writer, upstream_writer))
        try:
            await asyncio.gather(
                self._pump(link, reader, upstream_writer), self._pump(link, upstream_reader, writer)
            )
        finally:
            for end in (writer, upstream_writer):
                link.writers.discard(end)
                end.transport.abort()

    async def _pump(self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction; pass a half-close on, abort on a cut or a broken socket."""
        with contextlib.suppress(OSError):
            while not link.cut:
                chunk = await reader.read(CHUNK_BYTES)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()

    async def _set(self, dialler: int, node: int, cut: bool) -> None:
        link = self._links[(dialler, node)]
        link.cut = cut
        if cut:
            for end in list(link.writers):
                end.transport.abort()

    async def _forwarded(self, dialler: int, node: int) -> int:
        return self._links[(dialler, node)].forwarded

    async def _shutdown(self) -> None:
        for link in self._links.values():
            link.cut = True
            for end in list(link.writers):
                end.transport.abort()
            if link.server is not None:
                link.server.close()
        self._links.clear()

    # ------------------------------------------------------------------ the Fabric face

    def listen(self, node: int) -> str:
        return f"{LOOPBACK}:{self._node_ports[node]}"

    def api_listen(self, node: int) -> str:
        return f"{LOOPBACK}:{self._api_ports[node]}"

    def address(self, node: int) -> str:
        return f"{LOOPBACK}:{self._ports[(HOST, node)]}"

    def peer_address(self, node: int) -> str:
        return self.listen(node)  # never dialled: every node has `peers` overrides

    def peers(self, node: int) -> dict[int, str]:
        return {
            other: f"{LOOPBACK}:{self._ports[(node, other)]}"
            for other in range(len(self._node_ports))
            if other != node
        }

    def command_prefix(self, node: int) -> list[str]:
        return []

    def _both(self, a: int, b: int, cut: bool) -> None:
        for dialler, node in ((a, b), (b, a)):
            if node != HOST:
                self._run(self._set(dialler, node, cut))

    def cut(self, a: int, b: int) -> None:
        assert a != b and (a, b) not in self.cuts, (a, b, self.cuts)
        self._both(a, b, True)
        self.cuts.add((a, b))

    def cut_one_way(self, dialler: int, node: int) -> None:
        """Cut only what `dialler` dials to `node` (not in `cuts`, which heal reads)."""
        assert node != HOST, node
        self._run(self._set(dialler, node, True))

    def heal(self, a: int, b: int) -> None:
        assert (a, b) in self.cuts, (a, b, self.cuts)
        self._both(a, b, False)
        self.cuts.remove((a, b))

    def connections(self, dialler: int, node: int) -> int:
        """How many connections the link `dialler` -> `node` has forwarded so far."""
        return self._run(self._forwarded(dialler, node))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        with contextlib.suppress(TimeoutError, RuntimeError):
            self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(COMMAND_TIMEOUT_S)
        self._loop.close()
        self.cuts.clear()
