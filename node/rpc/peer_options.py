"""gRPC options of the validator-to-validator channels, both ends: message caps, keepalive, and the
reconnect backoff, bounded by the link's own redial backoff (node/rpc/peer_link.py). Catch-up's
fetch dials with the same channel options."""

from __future__ import annotations

from typing import Final

from votestore.limits import NODE_MESSAGE_BYTES, message_options

BACKOFF_MIN_S: Final = 0.05
PEER_BACKOFF_MAX_S: Final = 2.0
KEEPALIVE_TIME_MS: Final = 3_000
KEEPALIVE_TIMEOUT_MS: Final = 2_000
# A link whose packets vanish (a cut cable, a partition by dropped routes) looks alive to TCP
# until its retransmissions give up, minutes later; keepalive pings find it within ~5 s, and the
# link redials and replays this height's messages.
# gRPC shares one connection (subchannel) per address among live channels with the same options,
# and after failed connects it waits out its own backoff (1 s growing by 1.6x to 120 s), failing
# every call at once meanwhile: a validator back from a restart went unheard by a peer's fresh
# sessions for seconds after it was serving (7 s after 20 s down), and missed the proposals of
# those heights (issue 19: it joined consensus late). Capped at the link's own redial backoff.
RECONNECT_OPTIONS: Final = [
    ("grpc.initial_reconnect_backoff_ms", int(BACKOFF_MIN_S * 1000)),
    ("grpc.min_reconnect_backoff_ms", int(BACKOFF_MIN_S * 1000)),
    ("grpc.max_reconnect_backoff_ms", int(PEER_BACKOFF_MAX_S * 1000)),
]
CHANNEL_OPTIONS: Final = [
    *message_options(receive=NODE_MESSAGE_BYTES, send=NODE_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    *RECONNECT_OPTIONS,
]
# The server accepts those pings (its default would answer them with GOAWAY too_many_pings).
SERVER_OPTIONS: Final = [
    *CHANNEL_OPTIONS,
    ("grpc.http2.min_recv_ping_interval_without_data_ms", KEEPALIVE_TIME_MS // 2),
    ("grpc.http2.max_ping_strikes", 0),
]
