"""The notice sender's Prometheus metrics, on a registry of its own (tests build several)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from votestore.version import register_build_info

SEND_LATENCY_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class NoticeMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        register_build_info(r, "notices")
        self.sent = Counter(
            "votestore_notices_sent_total", "Notices a provider accepted.", ["channel"], registry=r
        )
        self.delivered = Counter(
            "votestore_notices_delivered_total",
            "Notices reported delivered (or final at acceptance).",
            ["channel"],
            registry=r,
        )
        self.failed = Counter(
            "votestore_notices_failed_total",
            "Notices given up on, by reason.",
            ["channel", "reason"],
            registry=r,
        )
        self.retries = Counter(
            "votestore_notices_retries_total", "Transient failures queued again.", ["channel"], registry=r
        )
        self.recovered = Counter(
            "votestore_notices_recovered_total",
            "Notices in flight at a crash, queued again at the next start (may be sent twice).",
            registry=r,
        )
        self.in_flight = Gauge("votestore_notices_in_flight", "Sends under way.", registry=r)
        self.send_latency = Histogram(
            "votestore_notices_send_seconds",
            "Time of one send call to a provider.",
            ["channel"],
            buckets=SEND_LATENCY_BUCKETS_S,
            registry=r,
        )

    def serve(self, port: int, host: str) -> None:
        start_http_server(port, addr=host, registry=self.registry)
