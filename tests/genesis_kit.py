"""A genesis of four validators with fixed keys, for unit tests that sign as validators."""

from __future__ import annotations

from collections.abc import Sequence

import nacl.signing

from proto.votestore.v1 import ledger_pb2
from votestore.encoding import block_id, vote_signing_bytes
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


def certificate(
    keys: Sequence[nacl.signing.SigningKey],
    header: ledger_pb2.BlockHeader,
    signers: Sequence[int] = (0, 1, 2),
    round_: int = 0,
) -> ledger_pb2.CommitCertificate:
    """The commit certificate of `header` signed by `signers` (indices into `keys`), as validators
    make it: PRECOMMIT over the block id at the header's height and `round_`."""
    identity = block_id(header)
    made = ledger_pb2.CommitCertificate(height=header.height, round=round_, block_id=identity)
    for i in signers:
        message = vote_signing_bytes(
            header.chain_id, ledger_pb2.PRECOMMIT, header.height, round_, i, identity
        )
        made.signatures.add(validator=i, signature=keys[i].sign(message).signature)
    return made
