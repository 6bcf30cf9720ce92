"""Headcounts and offer tallies the worker keeps next to the cases, for the stats endpoints.

`GET /v1/stats/stages` and `/v1/stats/skills` used to aggregate every case (167 ms at 1,000,000
cases, growing with the registry). Now the worker keeps the counts in three small tables
(services/storage/tables.py: `stage_counts`, `skill_counts`, `offer_counts`), changed in the same
transaction as the cases: for each case a batch touched, -1 under the key of the row as it was
loaded and +1 under the key of the row as written; +1 for each job offer. The endpoints sum a few
thousand rows whatever the number of cases. A replay rebuilds the tables from its folded cases and
offers with the same key functions, so they hold exactly what the live worker's deltas give.

Every count is kept at two levels (`by_origin`): summed over all origin regions (origin_region
''), read by `*` and `dest:` officers, and per origin region, read by officers with an `origin:`
scope (whose jurisdiction is "destination in my countries or origin in my regions").

offers_365d, a sliding window (SPEC is silent on its edge; decided here): the offers whose
occurred_at falls on one of the last 366 UTC calendar days, today included, i.e. on or after the
UTC date of `now - 365 days`. Nothing made within the last 365 x 24 hours is left out; an offer up
to one day older may still count. Offers are tallied per UTC day, per calendar month and per
calendar year, so a read sums a few rows per occupation and destination, never one row per offer:
the window is its first, partial month's day rows, then whole months up to a year's end, then
whole years (services/query/stats_sql.py says how each part is read the cheaper way).

Writes take row locks on the count rows: keys are written in sorted order so two workers never
wait on each other in a cycle, and they are written last in the batch's transaction so the locks
are held briefly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Table, delete, func, select, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.storage.tables import OfferTally, SkillHeadcount, StageHeadcount, table_of
from services.worker import upsert

STAGES, SKILLS, OFFERS = "stage_counts", "skill_counts", "offer_counts"
SKILL_STAGES = ("job_ready", "deployed")
OFFER_WINDOW = timedelta(days=365)
SQLITE_ROWS = 2000  # rows per SQLite statement: 7 parameters each, under its 32,766
KEYS = {  # each table's key columns, in the order the key tuples below hold them
    STAGES: ("by_origin", "destination_country", "origin_region", "stage"),
    SKILLS: ("by_origin", "occupation_code", "destination_country", "origin_region", "stage"),
    OFFERS: ("by_origin", "grain", "starts", "occupation_code", "destination_country", "origin_region"),
}
LIVE_TABLES: tuple[Table, ...] = (table_of(StageHeadcount), table_of(SkillHeadcount), table_of(OfferTally))

# What a case contributes: (destination_country, origin_region, stage, occupation_code).
CaseKey = tuple[str | None, str | None, str | None, str | None]
Tally = Counter  # (table name, key tuple) -> change of the count


def case_key(state) -> CaseKey | None:
    """The fields of a case (a CaseState or a case row) that the counts group by."""
    if state is None:
        return None
    get = state.get if isinstance(state, Mapping) else lambda name: getattr(state, name)
    return get("destination_country"), get("origin_region"), get("stage"), get("occupation_code")


def count_case(tally: Tally, before: CaseKey | None, after: CaseKey | None, cases: int = 1) -> None:
    """Move one case (or `cases` alike) from the counts of `before` (None: new) to those of `after`."""
    if before == after:
        return
    for key, sign in ((before, -cases), (after, +cases)):
        if key is None:
            continue
        dest, origin, stage, occupation = (value or "" for value in key)
        for by_origin, region in ((False, ""), (True, origin)):
            tally[(STAGES, (by_origin, dest, region, stage))] += sign
            if stage in SKILL_STAGES:
                tally[(SKILLS, (by_origin, occupation, dest, region, stage))] += sign


def count_offer(tally: Tally, offer: Mapping, offers: int = 1) -> None:
    """One job offer (a job_offers row; or `offers` alike) into its day, its month and its year."""
    day = offer_day(offer["occurred_at"])
    grains = (("day", day), ("month", day.replace(day=1)), ("year", day.replace(month=1, day=1)))
    for by_origin, region in ((False, ""), (True, offer.get("origin_region") or "")):
        for grain, starts in grains:
            tally[
                (
                    OFFERS,
                    (
                        by_origin,
                        grain,
                        starts,
                        offer["occupation_code"] or "",
                        offer["destination_country"] or "",
                        region,
                    ),
                )
            ] += offers


def offer_day(moment: datetime | date | str) -> date:
    """The UTC day of an offer (SQLite hands stored instants back as naive UTC or as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):  # a date
        return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def window_start(now: datetime) -> date:
    """The first UTC day of the offers_365d window at `now`."""
    return (now.astimezone(UTC) - OFFER_WINDOW).date()


def tally_of(cases: Iterable, offers: Iterable[Mapping]) -> Tally:
    """The counts of a whole view from scratch (a replay): the same keys the deltas use."""
    tally: Tally = Counter()
    for case in cases:
        count_case(tally, None, case_key(case))
    for offer in offers:
        count_offer(tally, offer)
    return tally


def rows(tally: Tally) -> dict[str, list[dict]]:
    """Per table, the rows of a tally (non-zero counts, in key order)."""
    out: dict[str, list[dict]] = {name: [] for name in KEYS}
    for (name, key), count in sorted(tally.items(), key=_order):
        if count:
            out[name].append({**dict(zip(KEYS[name], key, strict=True)), "count": count})
    return out


def write(conn: Connection, tables: Iterable[Table], tally: Tally) -> None:
    """Add the tally's changes to the count tables, in the caller's transaction; rows that reach 0
    are deleted, so the tables hold the same rows whether they were kept by deltas or rebuilt.
    One upsert per table (a round trip, not one per key; on PostgreSQL `upsert.add_rows`); the
    delete only runs in the rare batch that emptied a row (the upsert returns the new counts)."""
    by_name = {table.name.removesuffix("_rebuild"): table for table in tables}
    for name, changes in rows(tally).items():
        if not changes:
            continue
        table = by_name[name]
        key = [table.c[column] for column in KEYS[name]]
        if conn.dialect.name == "postgresql":
            returned = upsert.add_rows(conn, table, KEYS[name], ("count",), changes, returning=True)
        else:
            returned = []
            for start in range(0, len(changes), SQLITE_ROWS):
                statement = sqlite_insert(table).values(changes[start : start + SQLITE_ROWS])
                statement = statement.on_conflict_do_update(
                    index_elements=list(KEYS[name]), set_={"count": table.c["count"] + statement.excluded["count"]}
                )
                returned += conn.execute(statement.returning(*key, table.c["count"]))
        emptied = [tuple(row)[:-1] for row in returned if row[-1] == 0]
        if emptied:
            conn.execute(delete(table).where(tuple_(*key).in_(emptied), table.c["count"] == 0))


def insert_all(conn: Connection, tables: Iterable[Table], tally: Tally) -> None:
    """A view's counts into empty tables (COPY on PostgreSQL)."""
    from services.worker.bulk import copy_rows  # bulk builds on this module

    by_name = {table.name.removesuffix("_rebuild"): table for table in tables}
    for name, table_rows in rows(tally).items():
        copy_rows(conn, by_name[name], table_rows)


def recount(conn: Connection, views) -> None:
    """Replace `views`' counts by those of its cases and job offers, for views written without the
    worker (a bulk load, a test's seed): the same key functions as the deltas."""
    if not views.counts:
        return
    c, o = views.cases.c, views.job_offers.c
    keys = (c.destination_country, c.origin_region, c.stage, c.occupation_code)
    tally: Tally = Counter()
    for row in conn.execute(select(*keys, func.count().label("cases")).group_by(*keys)):
        count_case(tally, None, tuple(row)[:4], row.cases)
    if conn.dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", o.occurred_at))
    else:  # SQLite keeps instants as UTC text
        day = func.date(o.occurred_at)
    offer_keys = (day.label("occurred_at"), o.occupation_code, o.destination_country, o.origin_region)
    for offer in conn.execute(select(*offer_keys, func.count().label("offers")).group_by(*offer_keys)):
        count_offer(tally, offer._mapping, offer.offers)
    for table in views.counts:
        conn.execute(delete(table))
    insert_all(conn, views.counts, tally)


def _order(item) -> tuple:
    (name, key), _count = item
    return name, tuple(str(part) for part in key)
