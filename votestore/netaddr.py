"""host:port strings as the services take them."""

from __future__ import annotations

import ipaddress
from typing import Final


def host_of(address: str) -> str:
    """The host part of host:port, without IPv6 brackets: where a side endpoint (metrics) binds."""
    host = address.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


TEST_NETWORK: Final = ipaddress.ip_network("198.18.0.0/15")
"""RFC 2544's range for test networks, never routed: where the chaos harness puts its network
namespaces (ops.chaos.netns)."""


def is_local_only(address: str) -> bool:
    """True when host:port is loopback (127.0.0.0/8, ::1, localhost) or in TEST_NETWORK: the only
    addresses where plaintext gRPC is allowed, and only when a config asks for it."""
    host = host_of(address)
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip in TEST_NETWORK
