"""Each validator in its own network namespace, joined by veth pairs to one bridge in the host
namespace; links are cut with blackhole routes (iproute2 only: no iptables, no tc, which this kernel
lacks).

A blackhole route on both ends of a link makes every packet between the two addresses vanish in both
directions, as a pulled cable does: open TCP connections stall and retransmit, new ones time out.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from typing import Final

from ops.chaos.fabric import HOST
from votestore.errors import VotestoreError

NODE_PORT: Final = 26600
API_PORT: Final = 26602
"""Every node listens on this port of its own namespace address."""
BRIDGE_HOST_OCTET: Final = 254
COMMAND_TIMEOUT_S: Final = 10.0
SUBNET_PREFIX: Final = "198.18"
"""Nodes get 198.18.K.(i+1)/24: RFC 2544's range for test networks, never routed anywhere, and the
one range besides loopback where votestore allows plaintext (votestore.netaddr.is_local_only)."""
MAX_NODES: Final = 32


class NamespaceError(VotestoreError):
    """A namespace, link or route could not be made; the message holds the command and its error."""


def _ip(*args: str, namespace: str | None = None) -> None:
    command = ["ip", *args] if namespace is None else ["ip", "-n", namespace, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise NamespaceError(f"{' '.join(command)}: {done.stderr.strip()}")


def namespaces_possible() -> str | None:
    """None if namespaces can be made here, else why not (no root, no `ip`, kernel refuses)."""
    if os.geteuid() != 0:
        return "not root"
    probe = f"vsprobe{os.getpid() % 100_000}"
    try:
        _ip("netns", "add", probe)
    except (NamespaceError, OSError, subprocess.TimeoutExpired) as exc:
        return f"ip netns add failed: {exc}"
    _ip("netns", "del", probe)
    return None


@dataclass
class NamespaceFabric:
    """`NamespaceFabric.create(n)`; `close()` removes namespaces, veths, bridge and routes."""

    tag: str
    subnet: int
    n: int
    mode: str = "netns"
    made_namespaces: list[str] = field(default_factory=list)
    made_links: list[str] = field(default_factory=list)
    cuts: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def create(cls, n: int) -> NamespaceFabric:
        assert 1 <= n <= MAX_NODES, n
        tag = f"{os.getpid() % 0x10000:04x}"
        fabric = cls(tag=tag, subnet=os.getpid() % 250 + 1, n=n)
        try:
            fabric._build()
        except BaseException:
            fabric.close()
            raise
        return fabric

    def namespace(self, node: int) -> str:
        return f"vs{self.tag}n{node}"

    def ip(self, endpoint: int) -> str:
        octet = BRIDGE_HOST_OCTET if endpoint == HOST else endpoint + 1
        return f"{SUBNET_PREFIX}.{self.subnet}.{octet}"

    @property
    def bridge(self) -> str:
        return f"vs{self.tag}br"

    def _build(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        self.made_links.append(self.bridge)
        _ip("addr", "add", f"{self.ip(HOST)}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for node in range(self.n):
            space, outside, inside = self.namespace(node), f"vs{self.tag}h{node}", f"vs{self.tag}p{node}"
            _ip("netns", "add", space)
            self.made_namespaces.append(space)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            self.made_links.append(outside)
            _ip("link", "set", inside, "netns", space)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            _ip("addr", "add", f"{self.ip(node)}/24", "dev", inside, namespace=space)
            _ip("link", "set", inside, "up", namespace=space)
            _ip("link", "set", "lo", "up", namespace=space)

    def listen(self, node: int) -> str:
        return f"{self.ip(node)}:{NODE_PORT}"

    def api_listen(self, node: int) -> str:
        return f"{self.ip(node)}:{API_PORT}"

    def address(self, node: int) -> str:
        return self.api_listen(node)

    def peer_address(self, node: int) -> str:
        return self.listen(node)

    def peers(self, node: int) -> dict[int, str]:
        return {}

    def command_prefix(self, node: int) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(node)]

    def _route(self, verb: str, at: int, to: int) -> None:
        space = None if at == HOST else self.namespace(at)
        _ip("route", verb, "blackhole", f"{self.ip(to)}/32", namespace=space)

    def cut(self, a: int, b: int) -> None:
        assert a != b and (a, b) not in self.cuts, (a, b, self.cuts)
        self._route("add", a, b)
        self._route("add", b, a)
        self.cuts.add((a, b))

    def heal(self, a: int, b: int) -> None:
        assert (a, b) in self.cuts, (a, b, self.cuts)
        self._route("del", a, b)
        self._route("del", b, a)
        self.cuts.remove((a, b))

    def close(self) -> None:
        for a, b in sorted(self.cuts):
            with contextlib.suppress(NamespaceError):
                self.heal(a, b)
        self.cuts.clear()
        for space in reversed(self.made_namespaces):
            with contextlib.suppress(NamespaceError):
                _ip("netns", "del", space)
        for link in reversed(self.made_links):
            with contextlib.suppress(NamespaceError):
                _ip("link", "del", link)
        self.made_namespaces.clear()
        self.made_links.clear()
