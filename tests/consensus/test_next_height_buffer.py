"""Messages for height + 1 wait in a buffer per sender, bounded in messages and bytes (issue 19,
item 3: one validator's 4,096 signed next-height votes filled the shared buffer and honest ones
were dropped; 4,096 proposals of 64 KiB held 257 MiB); oversize payloads are refused on arrival."""

from __future__ import annotations

from dataclasses import replace

from node.consensus import (
    MESSAGE_OVERHEAD_BYTES,
    NEXT_HEIGHT_MESSAGES_PER_SENDER,
    Consensus,
    Proposal,
    Start,
    Vote,
    VoteType,
    signing_bytes,
)
from node.consensus.state_machine import DEFAULT_MAX_PAYLOAD_BYTES
from tests.consensus.script import CHAIN_ID, TIMEOUTS, Harness, built_by, valid
from votestore.hashing import sha256

FLOOD = 4096


def _signed(harness: Harness, message: Proposal | Vote, signer: int) -> Proposal | Vote:
    return replace(message, signature=harness.signers[signer].sign(signing_bytes(CHAIN_ID, message)))


def _vote(harness: Harness, validator: int, round_: int, value: int) -> Vote:
    vote = Vote(VoteType(1 + value % 2), 2, round_, sha256(b"%d" % value), validator, b"")
    signed = _signed(harness, vote, validator)
    assert isinstance(signed, Vote)
    return signed


def test_a_flood_from_one_sender_does_not_crowd_out_another() -> None:
    harness = Harness()
    core = harness.core
    core.step(Start())
    for k in range(FLOOD):
        core.step(_vote(harness, 1, k % 64, k))
    flooded = core.dropped.get("buffer_full", 0)
    for sender in (2, 3):
        core.step(_vote(harness, sender, 0, 0))
    assert core.dropped.get("buffer_full", 0) == flooded, "an honest sender's next-height vote was dropped"
    assert flooded == FLOOD - NEXT_HEIGHT_MESSAGES_PER_SENDER


def test_next_height_proposals_are_bounded_in_bytes() -> None:
    harness = Harness()
    core = harness.core
    core.step(Start())
    payload = b"\x00" * 64 * 1024
    for k in range(FLOOD):
        data = payload + b"%d" % k
        proposal = Proposal(2, k % 64, -1, sha256(data), 1, b"", data)
        core.step(_signed(harness, proposal, 1))
    kept = FLOOD - core.dropped.get("buffer_full", 0) - core.dropped.get("duplicate", 0)
    held = kept * (len(payload) + MESSAGE_OVERHEAD_BYTES)
    print(f"one sender's {FLOOD} next-height proposals of 64 KiB: {kept} kept, {held / 2**20:.1f} MiB")
    assert held <= DEFAULT_MAX_PAYLOAD_BYTES + NEXT_HEIGHT_MESSAGES_PER_SENDER * MESSAGE_OVERHEAD_BYTES


def test_an_oversize_payload_is_refused_on_arrival() -> None:
    harness = Harness()
    core = Consensus(
        chain_id=CHAIN_ID,
        validators=harness.validators,
        index=0,
        signer=harness.signers[0],
        verifier=harness.verifier,
        valid=valid,
        built_by=built_by,
        timeouts=TIMEOUTS,
        max_payload_bytes=1000,
    )
    core.step(Start())
    data = b"\x00" * 1001
    for height in (1, 2):
        core.step(_signed(harness, Proposal(height, 0, -1, sha256(data), 1, b"", data), 1))
    assert core.dropped == {"oversize": 2}
