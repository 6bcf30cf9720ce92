"""The stats statements over the counts the worker keeps (services/worker/counts.py).

A count row is within an officer's jurisdiction on the level that officer reads: `*` and `dest:`
officers read the rows summed over every origin (`by_origin` false), filtered by destination;
officers with an `origin:` scope read the per-origin rows, where "destination in my countries or
origin in my regions" is decidable row by row. Missing values are stored as '' and come back as
null.

The offers_365d window, from a day `first` on, is read in three parts, each the cheaper of two equal
ways (the day, month and year rows of an offer are written together by `count_offer`, so a
coarser row less the finer rows it holds gives the same sum):
- the days of `first`'s month: its day rows from `first` to the month's end, or none of them and
  the month is whole, less its day rows before `first` (a window starting on the 6th reads 5 day
  rows per occupation and destination instead of 26);
- the whole months from there to the end of their year: their month rows, or none of them and
  the year is whole, less its month rows before them (whole months from December on: December's
  row; from February on: the year's row less January's);
- the whole years after that: their year rows (offers dated later than today count, as before).
At most 15 day rows, 6 month rows and the year rows per occupation and destination on any day,
instead of 15 day rows and 13 month rows with days and months alone: at 1,000,000 cases a `*`
read on 2026-12-07 sums ~1,400 day, ~250 month and ~250 year rows, instead of ~1,400 day and
~3,300 month rows.
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
    Text,
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
from sqlalchemy.dialects.postgresql import aggregate_order_by

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
    days_less = (first - month).days < (month_after - first).days  # the month less its days before `first`
    months_from = month if days_less else month_after  # the first whole month read
    year, year_after = months_from.replace(month=1), date(months_from.year + 1, 1, 1)
    months_less = months_from.month - 1 < 13 - months_from.month  # the year less its months before
    days = (month, first) if days_less else (first, month_after)
    months = (year, months_from) if months_less else (months_from, year_after)
    params = {
        "days_from": days[0],
        "days_until": days[1],
        "months_from": months[0],
        "months_until": months[1],
        "years_from": year if months_less else year_after,
    }
    return _skills(jurisdiction, days_less, months_less), params


@lru_cache(maxsize=512)
def _skills(jurisdiction: Jurisdiction, days_less: bool, months_less: bool) -> Select:
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
    days_from, days_until, months_from, months_until, years_from = (
        bindparam(name, type_=Date) for name in ("days_from", "days_until", "months_from", "months_until", "years_from")
    )
    # A range scan of the primary key (by_origin, grain, starts, ...) per part: one OR of them
    # made PostgreSQL scan the table. A part read as "the coarser row less" subtracts its rows.
    parts: list[tuple[ColumnElement[bool], ColumnElement[int]]] = [
        (and_(o.grain == "day", o.starts >= days_from, o.starts < days_until), -o.count if days_less else o.count),
        (
            and_(o.grain == "month", o.starts >= months_from, o.starts < months_until),
            -o.count if months_less else o.count,
        ),
        (and_(o.grain == "year", o.starts >= years_from), o.count),
    ]
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
        for in_window, count in parts
    ]
    both = union_all(supply, *demand).subquery()
    occupation, dest = _shown(both.c.occupation_code), _shown(both.c.destination_country)
    # PostgreSQL's sum of bigints is a numeric (a Decimal in Python, which JSON would write as a
    # string, see routes_stats): cast back to bigint, a plain int.
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


@lru_cache(maxsize=2048)
def as_json(statement: Select) -> Select:
    """PostgreSQL only: `statement`'s rows as one JSON array of objects (text), in its order. The
    server writes the JSON, so the query service neither builds a row object per result row nor
    encodes it: for a `*` officer's 320 skills rows about 1-2 ms less per read (same run,
    in-process). Every stats statement orders by its first two columns, nulls last."""
    rows = statement.subquery("answer")
    first, second = list(rows.c)[:2]
    ordered = aggregate_order_by(rows.table_valued(), first.asc().nulls_last(), second.asc().nulls_last())
    return select(func.coalesce(cast(func.json_agg(ordered), Text), "[]"))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
