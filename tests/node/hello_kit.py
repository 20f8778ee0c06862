"""A signed peer Hello as any key would make it, for tests that play a peer (honest or not)."""

from __future__ import annotations

import time

import nacl.signing

from proto.votestore.v1 import peer_pb2
from votestore.encoding import hello_signing_bytes
from votestore.genesis import Genesis
from votestore.version import PROTOCOL_VERSION


def signed_hello(
    genesis: Genesis,
    key: nacl.signing.SigningKey,
    validator: int,
    to: int,
    challenge: bytes,
    *,
    forged: bool = False,
    protocol_version: int = PROTOCOL_VERSION,
    genesis_hash: bytes | None = None,
) -> peer_pb2.PeerMessage:
    """`key`'s Hello claiming to be `validator`, for validator `to`, answering `challenge`;
    `protocol_version` and `genesis_hash` as another release or genesis would send them, signed
    all the same (the signature zeroed if `forged`)."""
    now = int(time.time() * 1000)
    sent_genesis = genesis.hash() if genesis_hash is None else genesis_hash
    signing = hello_signing_bytes(
        genesis.chain_id, validator, to, challenge, now, protocol_version, sent_genesis
    )
    return peer_pb2.PeerMessage(
        hello=peer_pb2.Hello(
            chain_id=genesis.chain_id,
            validator=validator,
            to=to,
            challenge=challenge,
            time_ms=now,
            signature=bytes(64) if forged else key.sign(signing).signature,
            protocol_version=protocol_version,
            genesis_hash=sent_genesis,
        )
    )
