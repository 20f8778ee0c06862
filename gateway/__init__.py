"""The ballot intake gateway: `votestore.v1.Gateway` in front of every validator (docs/gateway.md)."""

from gateway.identity import write_identity_store

__all__ = ["write_identity_store"]
