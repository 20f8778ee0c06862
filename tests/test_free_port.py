"""Local clusters listen below the kernel's ephemeral ports: a port the kernel picks (bind to 0)
can be taken, before a node binds it, by any process's outgoing connection (a CI run lost a
cluster to `Address already in use` on 127.0.0.1:39551 that way)."""

from __future__ import annotations

import socket
from pathlib import Path

from ops.cluster.localnet import HOST, LISTEN_PORTS, free_port


def _ephemeral() -> range:
    low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(low, high + 1)


def test_ports_are_outside_the_ephemeral_range_distinct_and_free() -> None:
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports), "a port handed out twice"
    ephemeral = _ephemeral()
    assert all(p in LISTEN_PORTS and p not in ephemeral for p in ports), sorted(ports)[:5]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, ports[-1]))  # free when handed out
