"""metrics: what Prometheus scrapes from /metrics. Labels are tenant, surface, endpoint,
backend and decision, never anything from a request's content. Each gateway has its own
registry so that several in one process (tests) do not share counters."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mageguard_requests",
            "Requests by outcome",
            ("tenant", "surface", "endpoint", "backend", "decision"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "mageguard_request_seconds",
            "Time from request to last byte",
            ("endpoint", "backend"),
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.redacted = Counter(
            "mageguard_redacted_entities",
            "Entities replaced before a backend saw them",
            ("tenant", "entity"),
            registry=self.registry,
        )
        self.injections = Counter(
            "mageguard_injections_blocked",
            "Requests refused by the injection guard",
            ("tenant", "surface"),
            registry=self.registry,
        )
        self.output_blocks = Counter(
            "mageguard_output_blocked",
            "Answers withheld by the output check",
            ("tenant", "kind"),
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "mageguard_backend_failures",
            "Backend calls that failed (the chain moved on)",
            ("backend",),
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "mageguard_breaker_open",
            "1 while a backend's circuit is open",
            ("backend",),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "mageguard_in_flight", "Requests being served", registry=self.registry
        )
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def child(self, metric: Counter | Gauge | Histogram, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered: prometheus_client validates the labels
        and takes a lock on every labels() call, ~10 of them a request (~20 us of its
        CPU). As many entries as the metric has label sets, which are config-bound."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)
