"""Every Prometheus series of Passage (SPEC section 14), declared once, in the process's default
registry. Each process exports what it records: the gateway its events and requests, the query
service its requests, the worker the rest (its /metrics on PASSAGE_WORKER_METRICS_PORT).

| series | labels | recorded by |
|---|---|---|
| passage_events_accepted_total | event_type | gateway |
| passage_events_refused_total | event_type, code | gateway (event_type `unknown` when unreadable) |
| passage_http_request_duration_seconds | service, method, route, status | gateway, query |
| passage_consumer_lag | topic, partition | worker (highwater minus position, every few seconds) |
| passage_worker_batch_size | | worker |
| passage_publish_to_view_seconds | | worker (recorded_at to the view commit) |
| passage_open_alerts | code, severity | worker (counted in the view at scrape time) |
| passage_dead_lettered_total | reason | worker (the reason's kind, before its first colon) |
| passage_sweep_duration_seconds | | worker |
| passage_webhook_deliveries_total | outcome | worker (delivered, retry, rejected, expired) |
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

EVENTS_ACCEPTED = Counter("passage_events_accepted", "Events the gateway accepted (on Kafka)", ["event_type"])
EVENTS_REFUSED = Counter("passage_events_refused", "Events the gateway refused", ["event_type", "code"])
REQUEST_SECONDS = Histogram(
    "passage_http_request_duration_seconds",
    "HTTP request latency by route",
    ["service", "method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "passage_consumer_lag", "Records on the log not yet consumed by this worker", ["topic", "partition"]
)
BATCH_SIZE = Histogram(
    "passage_worker_batch_size", "Records per worker batch", buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)
)
PUBLISH_TO_VIEW = Histogram(
    "passage_publish_to_view_seconds",
    "From an event's recorded_at (gateway) to its commit in the views",
    buckets=LATENCY_BUCKETS,
)
OPEN_ALERTS = Gauge("passage_open_alerts", "Unresolved alerts in the protection view", ["code", "severity"])
DEAD_LETTERED = Counter("passage_dead_lettered", "Records sent to the dead-letter topic", ["reason"])
SWEEP_SECONDS = Histogram("passage_sweep_duration_seconds", "Time-rule sweep duration", buckets=LATENCY_BUCKETS)
WEBHOOK_DELIVERIES = Counter("passage_webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"])


def exposition() -> tuple[bytes, str]:
    """The body and content type of a /metrics answer."""
    return generate_latest(), CONTENT_TYPE_LATEST


def observe_batch(size: int, recorded: Iterable[datetime | None], committed_at: datetime | None = None) -> None:
    committed_at = committed_at or datetime.now(UTC)
    BATCH_SIZE.observe(size)
    for recorded_at in recorded:
        if recorded_at is not None:
            PUBLISH_TO_VIEW.observe(max(0.0, (committed_at - recorded_at).total_seconds()))


def dead_lettered(reason: str) -> None:
    DEAD_LETTERED.labels(reason=reason.split(":", 1)[0].strip()[:60] or "unknown").inc()


def set_open_alerts(counts: Iterable[tuple[str, str, int]]) -> None:
    """Replace the gauge's values: a code whose alerts all resolved goes back to 0, not stale."""
    fresh = {(code, severity): count for code, severity, count in counts}
    for labels in [tuple(sample.labels.values()) for metric in OPEN_ALERTS.collect() for sample in metric.samples]:
        if labels not in fresh:
            OPEN_ALERTS.labels(*labels).set(0)
    for (code, severity), count in fresh.items():
        OPEN_ALERTS.labels(code=code, severity=severity).set(count)
