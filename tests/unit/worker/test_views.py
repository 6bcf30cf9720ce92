"""Shadow views for a replay, and the swap that replaces the live rows in one transaction."""

from __future__ import annotations

from sqlalchemy import insert, inspect, select

from services.worker import views
from services.worker.views import LIVE


def case(case_id: str, stage: str) -> dict:
    return {
        "case_id": case_id,
        "stage": stage,
        "wellbeing": "unknown",
        "open_alerts": 0,
        "top_severity_rank": 0,
        "event_count": 1,
        "state": {"case_id": case_id},
    }


def test_swap_replaces_the_live_rows_by_the_rebuilt_ones_and_drops_the_shadows(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(insert(LIVE.cases), [case("OLD-0001", "registered"), case("BOTH-0001", "registered")])
    rebuilt = views.shadow(sqlite_engine)
    assert {t.name for t in rebuilt.folded} <= set(inspect(sqlite_engine).get_table_names())
    with sqlite_engine.begin() as conn:
        conn.execute(insert(rebuilt.cases), [case("BOTH-0001", "deployed"), case("NEW-0001", "returned")])
        views.swap(conn, rebuilt)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(LIVE.cases.c.case_id, LIVE.cases.c.stage).order_by(LIVE.cases.c.case_id)).all() == [
            ("BOTH-0001", "deployed"),
            ("NEW-0001", "returned"),
        ]
    assert not any(name.endswith(views.SHADOW_SUFFIX) for name in inspect(sqlite_engine).get_table_names())


def test_shadow_starts_empty_even_after_an_abandoned_rebuild(sqlite_engine):
    first = views.shadow(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.execute(insert(first.cases), [case("LEFT-0001", "registered")])
    second = views.shadow(sqlite_engine)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(second.cases)).all() == []


def test_shadow_tables_can_be_made_in_two_steps_the_first_kept_by_the_second(sqlite_engine):
    from services.worker.bulk import copy_rows
    from services.worker.rows import timeline_row
    from tests.factories import delivered, make

    rebuilt = views.shadow(sqlite_engine, tables=[views.shadow_tables().timeline])
    made = set(inspect(sqlite_engine).get_table_names())
    assert [t.name for t in rebuilt.folded if t.name in made] == [rebuilt.timeline.name]
    with sqlite_engine.begin() as conn:  # the fold streams into the timeline meanwhile
        copy_rows(conn, rebuilt.timeline, [timeline_row(delivered(make("deployment.grievance_filed", 1)))])
    views.shadow(sqlite_engine, tables=[t for t in rebuilt.folded if t is not rebuilt.timeline])
    assert {t.name for t in rebuilt.folded} <= set(inspect(sqlite_engine).get_table_names())
    with sqlite_engine.connect() as conn:
        assert len(conn.execute(select(rebuilt.timeline)).all()) == 1
