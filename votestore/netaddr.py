"""host:port strings as the services take them."""

from __future__ import annotations

import ipaddress


def host_of(address: str) -> str:
    """The host part of host:port, without IPv6 brackets: where a side endpoint (metrics) binds."""
    host = address.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(address: str) -> bool:
    """True when host:port names this machine only (127.0.0.0/8, ::1, localhost): where plaintext
    gRPC is allowed."""
    host = host_of(address)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
