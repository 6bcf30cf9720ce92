"""Escalation of alerts nobody picked up (SPEC section 10), the clock side; pure.

An alert still `open` (not acknowledged) longer than its severity's limit (PASSAGE_ACK_HOURS),
counted from when Passage recorded the event that raised it (`Alert.recorded_at`: the trigger
event's, or the sweep's `case.time_alert_raised`), is escalated: the sweep publishes
`escalation_event(...)` and the fold (`alerts.evaluate`) sets escalated_at. The event's
event_id derives from the alert_id and its occurred_at is the instant the limit passed, so two
sweeps publish the same event (the second is a duplicate) and a replay gives the same escalations.
An alert is escalated at most once; acknowledging or resolving it stops the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel

from events import AlertStatus
from services.domain.rules import RuleConfig
from services.domain.state import Alert, CaseState

ESCALATION_NAMESPACE = UUID("5e2b8c1d-7a43-4f09-8d6e-1c9a3b7f2e54")


class Escalation(BaseModel):
    """An alert the sweep found past its limit; publish it with `escalation_event`."""

    case_id: str
    alert_id: str
    due: datetime  # recorded_at + the severity's limit


def escalation_due(alert: Alert, config: RuleConfig) -> datetime | None:
    """The instant after which `alert` is escalated, or None when it cannot be (any more)."""
    if alert.status != AlertStatus.open or alert.escalated_at is not None or alert.recorded_at is None:
        return None
    return alert.recorded_at + timedelta(hours=config.ack_limits.hours(alert.severity))


def escalations(state: CaseState, now: datetime, config: RuleConfig) -> list[Escalation]:
    """The case's open alerts whose limit passed strictly before `now`, oldest deadline first."""
    due = [(at, alert) for alert in state.alerts.values() if (at := escalation_due(alert, config)) is not None]
    return [
        Escalation(case_id=state.case_id, alert_id=alert.alert_id, due=at)
        for at, alert in sorted(due, key=lambda pair: (pair[0], pair[1].alert_id))
        if now > at
    ]


def next_escalation(state: CaseState, config: RuleConfig) -> datetime | None:
    return min(
        (at for alert in state.alerts.values() if (at := escalation_due(alert, config)) is not None), default=None
    )


def escalation_event(escalation: Escalation) -> dict[str, Any]:
    """The `case.alert_escalated` envelope; the publisher stamps recorded_at and source."""
    at = escalation.due.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "event_id": str(uuid5(ESCALATION_NAMESPACE, escalation.alert_id)),
        "event_type": "case.alert_escalated",
        "schema_version": 1,
        "case_id": escalation.case_id,
        "occurred_at": at,
        "correlation_id": None,
        "payload": {"alert_id": escalation.alert_id},
    }
