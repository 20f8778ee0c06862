"""The last-signed record survives the store byte for byte, lock and proof of lock included."""

from __future__ import annotations

import pytest

from node.consensus import LastSigned, Proposal, Step, Vote, VoteType
from node.wire import decode_last_signed, encode_last_signed
from proto.votestore.v1 import ledger_pb2
from votestore.errors import StoreCorrupted

BLOCK = ledger_pb2.Block(header=ledger_pb2.BlockHeader(chain_id="c", height=7)).SerializeToString(
    deterministic=True
)
PROPOSAL = Proposal(
    height=7, round=2, valid_round=1, block_id=b"\x01" * 32, proposer=3, signature=b"\x02" * 64, payload=BLOCK
)
PROOF = tuple(Vote(VoteType.PREVOTE, 7, 1, b"\x01" * 32, v, bytes([v]) * 64) for v in range(3))


@pytest.mark.parametrize(
    "record",
    [
        LastSigned(height=1, round=0, step=Step.PROPOSE, block_id=None),
        LastSigned(
            height=5,
            round=3,
            step=Step.PREVOTE,
            block_id=b"\x05" * 32,
            locked_round=2,
            locked_block_id=b"\x06" * 32,
        ),
        LastSigned(
            height=7,
            round=2,
            step=Step.PRECOMMIT,
            block_id=None,
            locked_round=1,
            locked_block_id=b"\x01" * 32,
            valid_round=1,
            valid_proposal=PROPOSAL,
            valid_proof=PROOF,
        ),
        LastSigned(
            height=7,
            round=1,
            step=Step.PRECOMMIT,
            block_id=b"\x01" * 32,
            round_prevote=Vote(VoteType.PREVOTE, 7, 1, None, 0, b"\x03" * 64),
            earlier_precommit=Vote(VoteType.PRECOMMIT, 7, 0, None, 0, b"\x04" * 64),
        ),
    ],
)
def test_last_signed_round_trips(record: LastSigned) -> None:
    assert decode_last_signed(encode_last_signed(record), record.height) == record


def test_damaged_last_signed_names_the_height() -> None:
    with pytest.raises(StoreCorrupted, match="height 9"):
        decode_last_signed(b"\xff\xff\xff", 9)
