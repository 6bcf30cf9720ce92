"""The counts the worker keeps for the stats endpoints: deltas per case and offer, and the
property that matters: counts kept batch by batch equal the counts rebuilt from the views."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from services.demo.journeys import generate
from services.worker import counts
from services.worker.views import LIVE
from tests.factories import stamped_demo_events
from tests.views import store_in_batches

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
KERALA_SA_DEPLOYED = ("SA", "Kerala", "deployed", "9111")


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            None,
            ("SA", "Kerala", "recruiting", "9111"),
            {
                ("stage_counts", (False, "SA", "", "recruiting")): 1,
                ("stage_counts", (True, "SA", "Kerala", "recruiting")): 1,
            },
        ),
        (
            None,
            (None, None, None, None),
            {("stage_counts", (False, "", "", "")): 1, ("stage_counts", (True, "", "", "")): 1},
        ),
        (
            ("SA", "Kerala", "cleared", "9111"),
            KERALA_SA_DEPLOYED,
            {
                ("stage_counts", (False, "SA", "", "cleared")): -1,
                ("stage_counts", (True, "SA", "Kerala", "cleared")): -1,
                ("stage_counts", (False, "SA", "", "deployed")): 1,
                ("stage_counts", (True, "SA", "Kerala", "deployed")): 1,
                ("skill_counts", (False, "9111", "SA", "", "deployed")): 1,
                ("skill_counts", (True, "9111", "SA", "Kerala", "deployed")): 1,
            },
        ),
        (KERALA_SA_DEPLOYED, KERALA_SA_DEPLOYED, {}),
    ],
)
def test_a_case_moves_between_counts(before, after, expected):
    tally = counts.Tally()
    counts.count_case(tally, before, after)
    assert {key: change for key, change in tally.items() if change} == expected


def test_an_offer_counts_in_its_utc_day_month_and_year_at_both_levels():
    tally = counts.Tally()
    # 23:30 at UTC-3 is the next day in UTC
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC) + timedelta(hours=3)
    counts.count_offer(
        tally,
        {"occurred_at": moment, "occupation_code": "9111", "destination_country": "SA", "origin_region": "Kerala"},
    )
    assert set(tally) == {
        ("offer_counts", (False, "day", date(2026, 4, 1), "9111", "SA", "")),
        ("offer_counts", (False, "month", date(2026, 4, 1), "9111", "SA", "")),
        ("offer_counts", (False, "year", date(2026, 1, 1), "9111", "SA", "")),
        ("offer_counts", (True, "day", date(2026, 4, 1), "9111", "SA", "Kerala")),
        ("offer_counts", (True, "month", date(2026, 4, 1), "9111", "SA", "Kerala")),
        ("offer_counts", (True, "year", date(2026, 1, 1), "9111", "SA", "Kerala")),
    }


@pytest.mark.parametrize(
    ("now", "first_day"),
    [
        (datetime(2026, 12, 6, 12, tzinfo=UTC), date(2025, 12, 6)),
        (datetime(2024, 12, 31, 0, 0, tzinfo=UTC), date(2024, 1, 1)),  # 2024 is a leap year
    ],
)
def test_the_offer_window_starts_365_days_before_today(now, first_day):
    assert counts.window_start(now) == first_day


def _count_rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table))) for table in LIVE.counts}


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_kept_batch_by_batch_equal_the_counts_rebuilt_from_the_views(sqlite_engine, seed):
    journeys = generate(40, seed=seed, now=NOW)
    stream = [e for journey in journeys for e in stamped_demo_events(journey.events)]
    stream.sort(key=lambda e: e.occurred_at)  # interleaved cases, as on the log
    store_in_batches(sqlite_engine, stream, NOW, random.Random(seed), largest=60)
    kept = _count_rows(sqlite_engine)
    assert kept["stage_counts"] and kept["offer_counts"]
    with sqlite_engine.begin() as conn:
        counts.recount(conn, LIVE)
    assert _count_rows(sqlite_engine) == kept
    per_stage = Counter()
    for by_origin, _dest, _origin, stage, count in kept["stage_counts"]:
        if not by_origin:
            per_stage[stage] += count
    assert per_stage == Counter(journey.stage or "" for journey in journeys)
