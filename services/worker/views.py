"""The tables the worker writes, as one value, so a replay can fold into shadow copies.

`LIVE` are the views the query service reads. `shadow(...)` are same-shaped `<name>_rebuild`
tables with only their primary keys (the fold needs nothing else, and loading is faster without
secondary indexes); `swap` replaces the live rows by the shadow rows in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, MetaData, Table, delete, insert, select
from sqlalchemy.engine import Engine

from services.storage.tables import (
    Alert,
    AlertOutbox,
    Case,
    JobOffer,
    PartyCase,
    PartyStats,
    PartyWageGap,
    TimelineEvent,
    WatchlistEntry,
    table_of,
)
from services.worker.counts import LIVE_TABLES as LIVE_COUNTS

SHADOW_SUFFIX = "_rebuild"


@dataclass(frozen=True)
class Views:
    cases: Table
    timeline: Table
    alerts: Table
    job_offers: Table
    outbox: Table | None  # None: the alert changes are not published (a replay)
    counts: tuple[Table, ...] = ()  # stage_counts, skill_counts, offer_counts (services/worker/counts.py)
    party_cases: Table | None = None  # scorecards (SPEC section 12); None: not kept
    watchlist: Table | None = None
    party_stats: Table | None = None
    party_wage_gaps: Table | None = None

    @property
    def folded(self) -> tuple[Table, ...]:
        """The tables that are a pure fold of the journey log."""
        accountability = tuple(
            table
            for table in (self.party_cases, self.watchlist, self.party_stats, self.party_wage_gaps)
            if table is not None
        )
        return (self.cases, self.timeline, self.alerts, self.job_offers, *self.counts, *accountability)


LIVE = Views(
    table_of(Case),
    table_of(TimelineEvent),
    table_of(Alert),
    table_of(JobOffer),
    table_of(AlertOutbox),
    counts=LIVE_COUNTS,
    party_cases=table_of(PartyCase),
    watchlist=table_of(WatchlistEntry),
    party_stats=table_of(PartyStats),
    party_wage_gaps=table_of(PartyWageGap),
)


def shadow(engine: Engine) -> Views:
    """Fresh, empty shadow tables (dropped first if a previous rebuild left them behind)."""
    views = shadow_tables()
    metadata = views.cases.metadata
    metadata.drop_all(engine)
    metadata.create_all(engine)
    return views


ACCOUNTABILITY = ("party_cases", "watchlist", "party_stats", "party_wage_gaps")


def shadow_tables() -> Views:
    """The shadow tables' definitions (a bulk rebuild's job processes write into existing ones)."""
    metadata = MetaData()
    copies = {}
    for table in LIVE.folded:
        copies[table] = Table(table.name + SHADOW_SUFFIX, metadata, *(column._copy() for column in table.columns))
    return Views(
        copies[LIVE.cases],
        copies[LIVE.timeline],
        copies[LIVE.alerts],
        copies[LIVE.job_offers],
        outbox=None,
        counts=tuple(copies[table] for table in LIVE.counts),
        **{name: copies[getattr(LIVE, name)] for name in ACCOUNTABILITY},
    )


def drop(engine: Engine, views: Views) -> None:
    with engine.begin() as connection:
        for table in views.folded:
            table.drop(connection, checkfirst=True)


def swap(connection: Connection, rebuilt: Views, live: Views = LIVE) -> None:
    """Replace every live row by the rebuilt rows, in the caller's transaction: readers see the
    old views until it commits and the new ones after, never a mixture."""
    for source, target in zip(rebuilt.folded, live.folded, strict=True):
        connection.execute(delete(target))
        names = [column.name for column in target.columns]
        connection.execute(insert(target).from_select(names, select(*(source.c[name] for name in names))))
        source.drop(connection)
