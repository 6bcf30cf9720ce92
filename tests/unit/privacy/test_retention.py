"""Retention (SPEC section 9): the sweep requests erasure of cases returned long enough ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import events
from services.worker.sweep import sweep_once
from tests.factories import make
from tests.views import store as views_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def store(engine, *stream):
    views_store(engine, stream, NOW)


def returned(engine, case_id: str, days_ago: int) -> None:
    when = NOW - timedelta(days=days_ago)
    store(
        engine,
        make("migrant.registered", when - timedelta(days=400), case_id=case_id),
        make("return.returned", when, case_id=case_id),
    )


def erasures(publisher) -> list[events.Envelope]:
    decoded = [events.decode(r.value) for r in publisher.records]
    return [e for e in decoded if e.event_type == "case.erasure_requested"]


def test_cases_returned_longer_ago_than_the_retention_are_erased_by_system(sqlite_engine, unit_settings, publisher):
    returned(sqlite_engine, "OLD-0001", days_ago=400)
    returned(sqlite_engine, "NEW-0001", days_ago=10)
    settings = unit_settings.model_copy(update={"retention_days": 365})
    sweep_once(settings, sqlite_engine, publisher, set(range(12)), 12, now=NOW)
    [request] = erasures(publisher)
    assert request.case_id == "OLD-0001" and request.payload.officer_id == "system"

    publisher.records.clear()
    sweep_once(settings, sqlite_engine, publisher, set(range(12)), 12, now=NOW)
    assert [e.event_id for e in erasures(publisher)] == [request.event_id]  # the same request: erased once
    store(sqlite_engine, request)
    publisher.records.clear()
    sweep_once(settings, sqlite_engine, publisher, set(range(12)), 12, now=NOW)
    assert erasures(publisher) == []


def test_without_a_retention_setting_nothing_is_erased(sqlite_engine, unit_settings, publisher):
    returned(sqlite_engine, "OLD-0001", days_ago=4000)
    sweep_once(unit_settings, sqlite_engine, publisher, set(range(12)), 12, now=NOW)
    assert erasures(publisher) == []
