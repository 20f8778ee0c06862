"""Prometheus metrics for the gateway, in a registry of its own (one per gateway instance)."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "votestore_gateway_requests_total",
            "Gateway requests by method and gRPC status.",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "votestore_gateway_request_seconds",
            "Gateway request latency by method.",
            ["method"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.forwarded = Counter(
            "votestore_gateway_forwarded_total",
            "Validator answers to forwarded transactions: accepted, refused or unreachable.",
            ["outcome"],
            registry=self.registry,
        )
        self.receipts = Counter(
            "votestore_gateway_receipts_total",
            "Receipt answers by status.",
            ["status"],
            registry=self.registry,
        )
