"""One batch into the SQLite views: rows, idempotency, compare-and-set, a failing event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from services.domain import RuleConfig
from services.worker import persist
from services.worker.persist import Conflict
from services.worker.views import LIVE
from tests.factories import fold, make
from tests.views import store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULES = RuleConfig()


def run(engine, *events_):
    return store(engine, events_, NOW)


def rows(engine, table, order_by):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(*order_by))]


def views(engine) -> dict:
    return {
        "cases": rows(engine, LIVE.cases, [LIVE.cases.c.case_id]),
        "timeline": rows(engine, LIVE.timeline, [LIVE.timeline.c.event_id]),
        "alerts": rows(engine, LIVE.alerts, [LIVE.alerts.c.alert_id]),
        "job_offers": rows(engine, LIVE.job_offers, [LIVE.job_offers.c.event_id]),
    }


def test_a_batch_writes_the_case_timeline_alerts_and_offers(sqlite_engine):
    applied = run(
        sqlite_engine,
        make("migrant.registered", 0),
        make("recruitment.fee_paid", 5, paid_by="migrant"),
        make("recruitment.job_offer_made", 6),
        make("deployment.distress_reported", 10),
    )
    assert (applied.applied, applied.duplicates, applied.failed) == (4, 0, [])
    v = views(sqlite_engine)
    [case] = v["cases"]
    assert case["stage"] == "deployed" and case["destination_country"] == "SA"
    assert (case["event_count"], case["open_alerts"], case["top_severity"], case["top_severity_rank"]) == (
        4,
        2,
        "critical",
        3,
    )
    assert case["state"]["case_id"] == case["case_id"]
    assert len(v["timeline"]) == 4
    assert {(a["code"], a["severity"], a["severity_rank"], a["status"]) for a in v["alerts"]} == {
        ("RECRUITMENT_FEE_CHARGED", "medium", -1, "open"),
        ("DISTRESS", "critical", -3, "open"),
    }
    assert all(a["destination_country"] == "SA" and a["origin_region"] == "Kerala" for a in v["alerts"])
    [offer] = v["job_offers"]
    assert (offer["offer_id"], offer["destination_country"], offer["origin_region"]) == ("O1", "SA", "Kerala")
    assert [m["change"] for m in applied.changes] == ["raised", "raised"]
    assert len(rows(sqlite_engine, LIVE.outbox, [LIVE.outbox.c.id])) == 2


def test_an_alert_follows_its_case_to_a_new_destination(sqlite_engine):
    run(sqlite_engine, make("migrant.registered", 0), make("recruitment.fee_paid", 5, paid_by="migrant"))
    assert rows(sqlite_engine, LIVE.alerts, [LIVE.alerts.c.alert_id])[0]["destination_country"] is None
    run(sqlite_engine, make("recruitment.job_offer_made", 6, destination_country="QA"))
    assert rows(sqlite_engine, LIVE.alerts, [LIVE.alerts.c.alert_id])[0]["destination_country"] == "QA"


def test_duplicates_change_nothing_within_a_batch_and_across_batches(sqlite_engine):
    first = [make("migrant.registered", 0), make("deployment.distress_reported", 10)]
    run(sqlite_engine, *first)
    before = views(sqlite_engine)
    again = run(sqlite_engine, *first, first[1])
    assert (again.applied, again.duplicates, again.changes) == (0, 3, [])
    assert views(sqlite_engine) == before
    assert len(rows(sqlite_engine, LIVE.outbox, [LIVE.outbox.c.id])) == 1


def test_times_are_stored_in_utc(sqlite_engine):
    ist = timezone(timedelta(hours=5, minutes=30))
    run(sqlite_engine, make("migrant.registered", datetime(2025, 3, 1, 9, 0, tzinfo=ist)))
    [row] = rows(sqlite_engine, LIVE.timeline, [LIVE.timeline.c.event_id])
    assert row["occurred_at"].replace(tzinfo=UTC) == datetime(2025, 3, 1, 3, 30, tzinfo=UTC)


def test_a_case_changed_by_another_writer_since_loading_is_a_conflict(sqlite_engine, monkeypatch):
    run(sqlite_engine, make("migrant.registered", 0))
    before = views(sqlite_engine)
    load = persist._load

    def load_then_race(conn, views_, case_ids):
        loaded = load(conn, views_, case_ids)
        conn.execute(text("UPDATE cases SET event_count = event_count + 1"))  # another worker's commit
        return loaded

    monkeypatch.setattr(persist, "_load", load_then_race)
    with pytest.raises(Conflict):
        run(sqlite_engine, make("deployment.distress_reported", 10))
    assert views(sqlite_engine) == before  # the transaction rolled back


def test_an_event_the_domain_cannot_fold_is_reported_and_the_rest_applied(sqlite_engine, monkeypatch):
    poison = make("deployment.wage_paid", 20)
    project = persist.project

    def failing(state, event, rules, **options):
        if event.event_id == poison.event_id:
            raise ValueError("cannot fold this one")
        return project(state, event, rules, **options)

    monkeypatch.setattr(persist, "project", failing)
    applied = run(sqlite_engine, make("migrant.registered", 0), poison, make("deployment.distress_reported", 30))
    assert applied.applied == 2
    [(failed, reason)] = applied.failed
    assert failed.event.event_id == poison.event_id
    # Where it was raised, not its message (which may hold a value of the record: see refusals).
    assert reason.startswith("projection failed: ValueError: raised at tests/unit/worker/test_persist.py:")
    assert reason.endswith(" in failing")
    v = views(sqlite_engine)
    assert str(poison.event_id) not in {row["event_id"] for row in v["timeline"]}
    assert v["cases"][0]["event_count"] == 2


def test_a_case_half_changed_by_a_failing_event_is_folded_again_without_it(sqlite_engine, monkeypatch):
    # A batch folds a case's later events into one copy in place; an event that raises midway may
    # leave that copy half-changed, so the case is folded again from its loaded state without it.
    poison = make("deployment.distress_reported", 20)
    project = persist.project

    def half_then_failing(state, event, rules, **options):
        after = project(state, event, rules, **options)
        if event.event_id == poison.event_id:
            raise ValueError("failed after changing the state")
        return after

    good = [make("migrant.registered", 0), make("recruitment.job_offer_made", 6), make("deployment.departed", 30)]
    monkeypatch.setattr(persist, "project", half_then_failing)
    applied = run(sqlite_engine, good[0], good[1], poison, good[2])
    assert (applied.applied, [d.event.event_id for d, _ in applied.failed]) == (3, [poison.event_id])
    [case] = views(sqlite_engine)["cases"]
    without_poison, _changes = fold(good)
    assert case["state"] == without_poison.model_dump(mode="json")
    assert case["event_count"] == 3 and case["wellbeing"] == "unknown"
    assert "DISTRESS" not in {alert["code"] for alert in case["state"]["alerts"].values()}
