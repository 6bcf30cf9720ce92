"""The time rules against the wall clock: what a sweep raises, and when it next could.

- `sweep(state, now, config)`: the time-rule alerts due at `now` (now strictly after the instant
  the condition became true, which is the alert's raised_at). The worker publishes each as
  `time_alert_event(alert)`; the alert exists once that event is projected (`alerts.evaluate`).
- `next_deadline(state, config)`: the earliest instant a sweep could raise something for the case.

The sweep never re-raises an alert id that exists in any status: an alert an officer resolved
while its condition still holds stays resolved until the condition restarts (a new raised_at, so
a new id). A double sweep publishes the same event (its event_id derives from the alert_id),
which the projection drops as a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel

from events import AlertCode
from services.domain.alerts import TIME_RULES, Rule, time_alert_id
from services.domain.escalation import next_escalation
from services.domain.rules import RuleConfig
from services.domain.state import CaseState

TIME_EVENT_NAMESPACE = UUID("0a4c7a9e-58f1-4d4b-b1c2-7e3d5c9b8f21")


class TimeAlert(BaseModel):
    """A time-rule alert the sweep found due; publish it with `time_alert_event`."""

    case_id: str
    code: AlertCode
    alert_id: str
    raised_at: datetime


def sweep(state: CaseState, now: datetime, config: RuleConfig) -> list[TimeAlert]:
    """Time-rule alerts whose condition holds at `now` and that were not raised already."""
    due = ((rule, _pending(state, rule, config)) for rule in TIME_RULES)
    return [
        TimeAlert(
            case_id=state.case_id, code=rule.code, raised_at=at, alert_id=time_alert_id(state.case_id, rule.code, at)
        )
        for rule, at in due
        if at is not None and now > at
    ]


def next_deadline(state: CaseState, config: RuleConfig) -> datetime | None:
    """The earliest instant after which the sweep would raise or escalate an alert for this case."""
    pending = [at for rule in TIME_RULES if (at := _pending(state, rule, config)) is not None]
    escalation = next_escalation(state, config)
    return min(pending + ([escalation] if escalation is not None else []), default=None)


def time_alert_event(alert: TimeAlert) -> dict[str, Any]:
    """The `case.time_alert_raised` envelope for `alert`; the event_id derives from the alert_id
    and occurred_at is raised_at, so a double sweep publishes the same event and it dedups.
    The publisher stamps recorded_at and source as the gateway does for agencies."""
    return {
        "event_id": str(uuid5(TIME_EVENT_NAMESPACE, alert.alert_id)),
        "event_type": "case.time_alert_raised",
        "schema_version": 1,
        "case_id": alert.case_id,
        "occurred_at": _iso(alert.raised_at),
        "correlation_id": None,
        "payload": {"alert_id": alert.alert_id, "code": alert.code.value, "raised_at": _iso(alert.raised_at)},
    }


def _pending(state: CaseState, rule: Rule, config: RuleConfig) -> datetime | None:
    at = rule.due(state, config) if rule.due is not None else None  # TIME_RULES: never None
    if at is None or state.unresolved(rule.code):
        return None
    # The id (a uuid5, most of this check's cost) only when the case has alerts to look it up in.
    return None if state.alerts and time_alert_id(state.case_id, rule.code, at) in state.alerts else at


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
