"""host:port strings as the services take them."""

from __future__ import annotations


def host_of(address: str) -> str:
    """The host part of host:port, without IPv6 brackets: where a side endpoint (metrics) binds."""
    host = address.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host
