"""Prometheus metrics for the gateway, in a registry of its own (one per gateway instance)."""

from __future__ import annotations

from typing import Final, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

from votestore.version import register_build_info

LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


M = TypeVar("M", bound=MetricWrapperBase)

MAX_CHILDREN: Final = 256
"""Label combinations one metric may take: the values come from fixed sets (methods, gRPC status
codes, answer kinds, receipt statuses), so more is a bug, not traffic."""


class Children(Generic[M]):
    """A labelled metric's children, looked up once per label values: prometheus_client's
    `labels()` checks its arguments and takes a lock on every call, and the gateway made 6.5 such
    calls a ballot."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            assert len(self._children) < MAX_CHILDREN, values
            child = self._children[values] = self._metric.labels(*values)
        return child


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        register_build_info(self.registry, "gateway")
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
        self.request_count = Children(self.requests)
        self.request_latency = Children(self.latency)
        self.forwarded_count = Children(self.forwarded)
        self.receipt_count = Children(self.receipts)
