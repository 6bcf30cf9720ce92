"""The gateway's event counters (SPEC section 14): accepted by type, refused by type and code.
A refused event's type is its label only when it names a known type (`unknown` otherwise), so
what a client sends can never grow the number of series."""

from __future__ import annotations

from collections.abc import Iterable

from services import metrics
from services.gateway.admission import Admitted, Refused


def count_outcomes(outcomes: Iterable[Admitted | Refused]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, Admitted):
            metrics.EVENTS_ACCEPTED.labels(event_type=outcome.event_type).inc()
        else:
            metrics.EVENTS_REFUSED.labels(event_type=outcome.event_type or "unknown", code=outcome.code).inc()


def count_malformed() -> None:
    metrics.EVENTS_REFUSED.labels(event_type="unknown", code="malformed_request").inc()
