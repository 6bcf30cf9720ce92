"""The worker's watchlist and scorecard rows in one SQLite transaction per batch."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.domain import RuleConfig
from services.worker import views
from services.worker.bulk import Fold, TimelineCopy
from services.worker.persist import settle_watchlist
from services.worker.views import LIVE
from tests.factories import listing, make, message
from tests.views import store as views_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run(engine, *events_, partition: int = 0):
    return views_store(engine, events_, NOW, partition=partition)


def table(engine, t):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t))]


def watchlisted_alerts(engine):
    return sorted(
        (a["case_id"], a["status"], a["trigger_event_id"])
        for a in table(engine, LIVE.alerts)
        if a["code"] == "WATCHLISTED_PARTY"
    )


def test_a_watchlist_event_makes_no_case_and_a_later_offer_raises(sqlite_engine):
    entry = listing(1, "E1")
    applied = run(sqlite_engine, entry)
    assert applied.applied == 1 and table(sqlite_engine, LIVE.cases) == []
    again = run(sqlite_engine, entry)  # the same event_id again
    assert (again.applied, again.duplicates) == (0, 1)
    offer = make("recruitment.job_offer_made", 5)
    applied = run(sqlite_engine, offer)
    assert watchlisted_alerts(sqlite_engine) == [(offer.case_id, "open", str(offer.event_id))]
    assert [m["alert"]["code"] for m in applied.changes] == ["WATCHLISTED_PARTY"]


def test_an_entry_that_arrives_late_gives_the_in_order_alerts(sqlite_engine):
    entry = listing(1, "E1")
    offer = make("recruitment.job_offer_made", 5)
    clean = make("recruitment.job_offer_made", 8, offer_id="O2", employer_id="E2")
    run(sqlite_engine, offer, clean)  # folded before the entry, recorded earlier, reached the worker
    assert watchlisted_alerts(sqlite_engine) == []
    applied = run(sqlite_engine, entry, partition=3)
    assert watchlisted_alerts(sqlite_engine) == [(offer.case_id, "resolved", str(offer.event_id))]
    assert [m["change"] for m in applied.changes] == ["resolved"]  # raised and resolved, as in order


def test_a_removal_resolves_the_open_alert(sqlite_engine):
    run(sqlite_engine, listing(1, "E1"))
    offer = make("recruitment.job_offer_made", 5)
    run(sqlite_engine, offer)
    run(sqlite_engine, listing(9, "E1", added=False))
    assert watchlisted_alerts(sqlite_engine) == [(offer.case_id, "resolved", str(offer.event_id))]
    [case] = table(sqlite_engine, LIVE.cases)
    assert case["open_alerts"] == 0


def test_scorecard_rows_follow_the_case(sqlite_engine):
    run(
        sqlite_engine,
        make("recruitment.job_offer_made", 0),
        make("deployment.departed", 2),
        make("deployment.incident_reported", 3, category="detention"),
    )
    rows = {(r["party_kind"], r["party_id"]): r for r in table(sqlite_engine, LIVE.party_cases)}
    assert set(rows) == {("employer", "E1"), ("recruiting_agent", "RA1")}
    assert (rows["employer", "E1"]["placed"], rows["employer", "E1"]["abuse"]) == (1, 1)
    assert rows["employer", "E1"]["destination_country"] == "SA"


def test_a_watchlist_event_id_again_with_other_content_is_a_conflicting_duplicate(sqlite_engine):
    entry = listing(1, "E1")
    run(sqlite_engine, entry)
    changed = entry.model_copy(update={"payload": entry.payload.model_copy(update={"reason": "another reason"})})
    applied = run(sqlite_engine, changed)
    assert applied.applied == 0 and [reason for _, reason in applied.failed] == ["conflicting_duplicate"]
    assert [row["reason"] for row in table(sqlite_engine, LIVE.watchlist)] == ["passports withheld"]


def test_a_bulk_rebuild_then_the_watchlist_pass_gives_the_live_rows(sqlite_engine):
    entry, removal = listing(1, "E1"), listing(20, "E1", added=False)
    stream = [
        make("recruitment.job_offer_made", 5),
        make("deployment.departed", 6),
        make("recruitment.job_offer_made", 7, case_id="CASE-0002", employer_id="E1"),
        make("recruitment.job_offer_made", 9, case_id="CASE-0002", offer_id="O2", employer_id="E2"),
    ]
    run(sqlite_engine, entry, *stream, removal)  # live: in recorded order
    rebuilt = views.shadow(sqlite_engine)
    fold = Fold(RuleConfig())
    with sqlite_engine.begin() as conn:
        with TimelineCopy(conn, rebuilt.timeline) as timeline:
            offsets = {event.event_id: offset for offset, event in enumerate([entry, *stream, removal])}
            for event in [*stream, removal, entry, entry]:  # the entries last, one twice
                row = fold.add(message(event, offsets[event.event_id]))
                if row is not None:
                    timeline.write(row)
        fold.write(conn, rebuilt)
        settle_watchlist(conn, rebuilt, RuleConfig())
    assert len(watchlisted_alerts(sqlite_engine)) == 2
    for live, shadow in zip(LIVE.folded, rebuilt.folded, strict=True):
        assert rows(sqlite_engine, shadow) == rows(sqlite_engine, live), live.name


def rows(engine, t):
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]
