"""The sweep over SQLite publishes `case.alert_escalated` for open alerts past their limit, and
the stored case's next_deadline brings the case back to the sweep just in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.worker.sweep import SOURCE, due_events
from services.worker.views import LIVE
from tests.factories import RULES, make
from tests.views import store as views_store

DISTRESS = make(
    "deployment.distress_reported", 0, case_id="CASE-0001", recorded_at=datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
)
LIMIT = DISTRESS.recorded_at + timedelta(hours=24)
EVERYTHING = set(range(4))


def store(engine, *events_, now=datetime(2026, 1, 1, tzinfo=UTC)):
    return views_store(engine, events_, now)


def escalations_due(engine, now):
    return [e for e in due_events(engine, RULES, now, EVERYTHING, 4) if e.event_type == "case.alert_escalated"]


def test_an_open_alert_is_escalated_by_the_sweep_once_past_its_limit(sqlite_engine):
    store(sqlite_engine, DISTRESS)
    with sqlite_engine.connect() as conn:
        deadline = conn.execute(select(LIVE.cases.c.next_deadline)).scalar_one()
    assert deadline.replace(tzinfo=UTC) == LIMIT
    assert escalations_due(sqlite_engine, LIMIT) == []
    (event,) = escalations_due(sqlite_engine, LIMIT + timedelta(seconds=1))
    assert event.occurred_at == LIMIT and event.source.model_dump(mode="json") == SOURCE
    applied = store(sqlite_engine, event)
    assert [(m["change"], m["alert"]["escalated_at"]) for m in applied.changes] == [
        ("escalated", "2025-01-02T00:01:00Z")
    ]
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(LIVE.alerts.c.status, LIVE.alerts.c.escalated_at)).one()
    assert row.status == "open" and row.escalated_at.replace(tzinfo=UTC) == LIMIT
    assert escalations_due(sqlite_engine, LIMIT + timedelta(days=30)) == []
