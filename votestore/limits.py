"""Every gRPC message-size cap and the byte bounds tied to them: the one place they are set.

A cap that one side sets differently from the other either refuses honest traffic (a reader below
its server's send cap) or lets a peer make a process allocate more than it planned (a reader
above it). So the node, the gateway, the verifier, the chaos harness and the client SDK all take
their gRPC options from `message_options` here, and `tests/test_limits.py` fails if a literal cap
appears anywhere else. What must hold is asserted below.
"""

from __future__ import annotations

from typing import Final

MIB: Final = 1024 * 1024

MAX_TX_BYTES: Final = 256 * 1024
"""Largest signed transaction any part accepts (decoding refuses a larger one)."""

NODE_MESSAGE_BYTES: Final = 32 * MIB
"""What a node sends and receives in one gRPC message (peer traffic, blocks, replies to readers),
and so what every reader of a node (another node, the gateway, the verifier, the chaos checks)
must accept."""

MAX_SUBMIT_BATCH_BYTES: Final = 8 * MIB
"""Largest SubmitTxBatch a node takes (its transactions' bytes together)."""

GATEWAY_SUBMIT_BATCH_BYTES: Final = MAX_SUBMIT_BATCH_BYTES // 2
"""A gateway sends its batch before it would hold more: under the node's cap with room to spare."""

MAX_GOSSIP_BYTES: Final = 4 * MIB
"""Transactions one gossip answer carries, well under a node message."""

GATEWAY_MESSAGE_OVERHEAD_BYTES: Final = 4096
"""Room around one transaction in a client's request (election id, identity proof, framing)."""

GATEWAY_REQUEST_BYTES: Final = MAX_TX_BYTES + GATEWAY_MESSAGE_OVERHEAD_BYTES
"""The gateway's default receive cap (config `limits.max_message_bytes`)."""

GATEWAY_REPLY_FACTOR: Final = 4
"""A gateway reply (a receipt with its proofs) may be this many times its request cap."""

GATEWAY_REPLY_BYTES: Final = GATEWAY_REPLY_FACTOR * GATEWAY_REQUEST_BYTES
"""What the client SDK accepts from a gateway with the default request cap."""

OVERSIZED_BYTES: Final = NODE_MESSAGE_BYTES + 8 * MIB
"""A message the chaos fuzzer sends to prove the caps hold: larger than any server accepts."""

FUZZ_SEND_BYTES: Final = 2 * OVERSIZED_BYTES
"""The fuzzer's own send cap, so that its oversized messages leave it and reach the server."""

assert MAX_TX_BYTES < GATEWAY_REQUEST_BYTES < GATEWAY_REPLY_BYTES < NODE_MESSAGE_BYTES
assert GATEWAY_SUBMIT_BATCH_BYTES < MAX_SUBMIT_BATCH_BYTES < NODE_MESSAGE_BYTES
assert MAX_GOSSIP_BYTES < NODE_MESSAGE_BYTES
assert NODE_MESSAGE_BYTES < OVERSIZED_BYTES < FUZZ_SEND_BYTES


def message_options(*, receive: int, send: int | None = None) -> list[tuple[str, int]]:
    """The gRPC channel/server options for these caps (send omitted: gRPC's default, unlimited)."""
    options = [("grpc.max_receive_message_length", receive)]
    if send is not None:
        options.append(("grpc.max_send_message_length", send))
    return options
