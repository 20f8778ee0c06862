"""A genesis of four validators with fixed keys, for unit tests that sign as validators."""

from __future__ import annotations

import nacl.signing

from votestore.genesis import Genesis, Validator


def four_validators(chain_id: str, seed: int, port: int) -> tuple[list[nacl.signing.SigningKey], Genesis]:
    """Keys derived from `seed` (each test its own, so no two share a key by accident) and the
    genesis naming them, at 127.0.0.1:port and up."""
    keys = [nacl.signing.SigningKey(bytes([i + seed]) * 32) for i in range(4)]
    genesis = Genesis(
        chain_id=chain_id,
        genesis_time_ms=1,
        validators=tuple(
            Validator(i, f"v{i}", bytes(k.verify_key), f"127.0.0.1:{port + i}") for i, k in enumerate(keys)
        ),
        admins=(bytes(keys[0].verify_key),),
    )
    return keys, genesis
