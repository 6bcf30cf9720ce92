"""The stats statements over the counts the worker keeps (services/worker/counts.py).

A count row is within an officer's jurisdiction on the level that officer reads: `*` and `dest:`
officers read the rows summed over every origin (`by_origin` false), filtered by destination;
officers with an `origin:` scope read the per-origin rows, where "destination in my countries or
origin in my regions" is decidable row by row. Missing values are stored as '' and come back as
null.

The offers_365d window starts on a day `first` inside a month; the offers of that partial month are
read the cheaper of two equal ways: its day rows from `first` to the month's end, or its month row
less its day rows before `first` (a window starting on the 6th reads 5 day rows per occupation and
destination instead of 26). The month row and the day rows are written together (`count_offer`),
so both give the same sum. At 1,000,000 cases a `*` read sums ~1,500 day rows instead of ~6,200 on
such a day; at most 15 day rows per pair on any day, instead of 31.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)

from services.query.scope import Jurisdiction
from services.worker.counts import LIVE_TABLES, window_start

stage_counts, skill_counts, offer_counts = LIVE_TABLES


def _visible(table: Table, jurisdiction: Jurisdiction) -> ColumnElement[bool]:
    c = table.c
    if jurisdiction.everything:
        return c.by_origin == false()
    if not jurisdiction.origins:
        return and_(c.by_origin == false(), jurisdiction.where(c.destination_country, c.origin_region))
    return and_(c.by_origin == true(), jurisdiction.where(c.destination_country, c.origin_region))


def _shown(column) -> ColumnElement:
    return func.nullif(column, "")


# A statement and its parameters, for `db.execute(*query)`: the statement object is built once per
# jurisdiction and reused as it is, so SQLAlchemy finds its compiled form by a cache key computed
# once (`.params()` would make a copy per request and hash it again: 6% of a skills read's CPU).
Query = tuple[Select, dict[str, Any]]


def stages(jurisdiction: Jurisdiction, destination_country: str | None) -> Query:
    """Headcount per destination and stage."""
    return _stages(jurisdiction, destination_country is not None), {"destination_country": destination_country}


@lru_cache(maxsize=512)
def _stages(jurisdiction: Jurisdiction, one_destination: bool) -> Select:
    c = stage_counts.c
    dest, stage = _shown(c.destination_country), _shown(c.stage)
    query = select(dest.label("destination_country"), stage.label("stage"), func.sum(c.count).label("count"))
    query = query.where(_visible(stage_counts, jurisdiction))
    if one_destination:
        query = query.where(c.destination_country == bindparam("destination_country"))
    return (
        query.group_by(dest, stage)
        .having(func.sum(c.count) > 0)
        .order_by(dest.asc().nulls_last(), stage.asc().nulls_last())
    )


def skills(jurisdiction: Jurisdiction, now: datetime) -> Query:
    """Supply, demand of the window at `now`, and deployed, per occupation and destination."""
    first = window_start(now)
    month, month_after = first.replace(day=1), _next_month(first)
    days_before, days_from = (first - month).days, (month_after - first).days
    return _skills(jurisdiction, days_before < days_from), {"first": first, "month": month, "month_after": month_after}


@lru_cache(maxsize=512)
def _skills(jurisdiction: Jurisdiction, month_less_days_before: bool) -> Select:
    s, o = skill_counts.c, offer_counts.c
    supply = (
        select(
            s.occupation_code,
            s.destination_country,
            func.sum(s.count).filter(s.stage == "job_ready").label("job_ready"),
            literal(0).label("offers_365d"),
            func.sum(s.count).filter(s.stage == "deployed").label("deployed"),
        )
        .where(_visible(skill_counts, jurisdiction))
        .group_by(s.occupation_code, s.destination_country)
    )
    first, month, month_after = (bindparam(name, type_=Date) for name in ("first", "month", "month_after"))
    # Two range scans of the primary key (by_origin, grain, starts, ...): day rows and month rows.
    # (One OR of both made PostgreSQL scan the table.) See the module docstring for the two ways.
    day_count: ColumnElement[int]
    if month_less_days_before:
        months = and_(o.grain == "month", o.starts >= month)
        days, day_count = and_(o.grain == "day", o.starts >= month, o.starts < first), -o.count
    else:
        months = and_(o.grain == "month", o.starts >= month_after)
        days, day_count = and_(o.grain == "day", o.starts >= first, o.starts < month_after), o.count
    demand = [
        select(
            o.occupation_code,
            o.destination_country,
            literal(0).label("job_ready"),
            func.sum(count).label("offers_365d"),
            literal(0).label("deployed"),
        )
        .where(_visible(offer_counts, jurisdiction), in_window)
        .group_by(o.occupation_code, o.destination_country)
        for in_window, count in ((days, day_count), (months, o.count))
    ]
    both = union_all(supply, *demand).subquery()
    occupation, dest = _shown(both.c.occupation_code), _shown(both.c.destination_country)
    # PostgreSQL's sum of bigints is a numeric (a Decimal in Python, which pydantic turns into an
    # int slowly, row by row): cast back to bigint, a plain int.
    return (
        select(
            occupation.label("occupation_code"),
            dest.label("destination_country"),
            *(
                cast(func.coalesce(func.sum(both.c[name]), 0), BigInteger).label(name)
                for name in ("job_ready", "offers_365d", "deployed")
            ),
        )
        .group_by(occupation, dest)
        .order_by(occupation.asc().nulls_last(), dest.asc().nulls_last())
    )


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
