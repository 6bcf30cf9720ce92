"""The skills statement's offers_365d over the offer tallies equals counting the offers themselves,
whichever way it reads the window's first, partial month (its day rows from the window's first day
on, or its month row less the day rows before that day) and the whole months to that year's end
(their month rows, or the year's row less the months before them)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from services.query import stats_sql
from services.query.scope import Jurisdiction
from services.storage.db import create_all, make_engine
from services.worker import counts
from services.worker.views import LIVE

ORIGIN = date(2026, 1, 1)  # `now` is up to 400 days after it
offers = st.lists(
    st.tuples(
        # how many days before today the offer was made: often near the window's first day
        st.one_of(st.integers(min_value=-5, max_value=420), st.integers(min_value=360, max_value=370)),
        st.sampled_from(["9111", "7112"]),
        st.sampled_from(["SA", "AE"]),
        st.sampled_from(["Kerala", "Goa"]),
    ),
    max_size=40,
)
JURISDICTIONS = (Jurisdiction(everything=True), Jurisdiction.of(["origin:Kerala"]), Jurisdiction.of(["dest:SA"]))


def _expected(made: list[tuple], now: datetime, jurisdiction: Jurisdiction) -> Counter:
    first = counts.window_start(now)
    tally: Counter = Counter()
    for days_ago, occupation, dest, origin in made:
        seen = jurisdiction.everything or dest in jurisdiction.destinations or origin in jurisdiction.origins
        if seen and now.date() - timedelta(days=days_ago) >= first:
            tally[(occupation, dest)] += 1
    return tally


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=offers, today=st.integers(min_value=0, max_value=400))
def test_offers_in_the_window_equal_the_offers_counted_one_by_one(tmp_path, made, today):
    engine = make_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    create_all(engine)
    now = datetime.combine(ORIGIN + timedelta(days=today), time(15), tzinfo=UTC)
    tally: counts.Tally = Counter()
    for days_ago, occupation, dest, origin in made:
        offer = {
            "occurred_at": datetime.combine(now.date() - timedelta(days=days_ago), time(9), tzinfo=UTC),
            "occupation_code": occupation,
            "destination_country": dest,
            "origin_region": origin,
        }
        counts.count_offer(tally, offer)
    try:
        with engine.begin() as conn:
            for table in LIVE.counts:
                conn.execute(delete(table))
            counts.write(conn, LIVE.counts, tally)
        with engine.connect() as conn:
            for jurisdiction in JURISDICTIONS:
                rows = conn.execute(*stats_sql.skills(jurisdiction, now)).all()
                demand = Counter(
                    {(row.occupation_code, row.destination_country): row.offers_365d for row in rows if row.offers_365d}
                )
                assert demand == _expected(made, now, jurisdiction), jurisdiction
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "first_day", [date(2025, 12, 1), date(2025, 12, 6), date(2025, 12, 16), date(2025, 12, 26), date(2025, 12, 31)]
)
def test_the_window_edge_inside_its_first_month(sqlite_engine, first_day):
    """Offers on the day before the window, on its first day and after it, in the first month and the
    next: the first day counts, the day before does not, whichever way the partial month is read."""
    now = datetime.combine(first_day + timedelta(days=365), time(15), tzinfo=UTC)
    assert counts.window_start(now) == first_day
    days = [
        first_day - timedelta(days=1),
        first_day,
        first_day + timedelta(days=1),
        date(2025, 11, 30),
        date(2026, 1, 1),
    ]
    tally: counts.Tally = Counter()
    for day in days:
        counts.count_offer(
            tally,
            {
                "occurred_at": datetime.combine(day, time(23, 30), tzinfo=UTC),
                "occupation_code": "9111",
                "destination_country": "SA",
                "origin_region": "Kerala",
            },
        )
    with sqlite_engine.begin() as conn:
        counts.write(conn, LIVE.counts, tally)
        (row,) = conn.execute(*stats_sql.skills(Jurisdiction(everything=True), now)).all()
    assert row.offers_365d == sum(1 for day in days if day >= first_day)


def test_every_way_of_reading_the_months_and_years_counts_each_offer_once(sqlite_engine):
    """Windows starting in each month of a year, early and late in it (so each part is read each
    way), over offers on the first and last day of every month around them, a year later included."""
    starts = [date(2024 + (10 + n) // 12, (10 + n) % 12 + 1, 1) for n in range(29)]  # 2024-11 to 2027-03
    made = [day for start, after in itertools.pairwise(starts) for day in (start, after - timedelta(days=1))]
    tally: counts.Tally = Counter()
    for day in made:
        counts.count_offer(
            tally,
            {
                "occurred_at": datetime.combine(day, time(12), tzinfo=UTC),
                "occupation_code": "9111",
                "destination_country": "SA",
                "origin_region": "Kerala",
            },
        )
    with sqlite_engine.begin() as conn:
        counts.write(conn, LIVE.counts, tally)
    with sqlite_engine.connect() as conn:
        for month in range(1, 13):
            for first_day in (date(2025, month, 1), date(2025, month, 6), date(2025, month, 20)):
                now = datetime.combine(first_day + timedelta(days=365), time(15), tzinfo=UTC)
                assert counts.window_start(now) == first_day
                (row,) = conn.execute(*stats_sql.skills(Jurisdiction(everything=True), now)).all()
                assert row.offers_365d == sum(1 for day in made if day >= first_day), first_day
