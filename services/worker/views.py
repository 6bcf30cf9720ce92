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
    Alert, AlertOutbox, Case, JobOffer, PartyCase, PartyStats, PartyWageGap, TimelineEvent, WatchlistEntry,
)

SHADOW_SUFFIX = "_rebuild"


@dataclass(frozen=True)
class Views:
    cases: Table
    timeline: Table
    alerts: Table
    job_offers: Table
    outbox: Table | None  # None: the alert changes are not published (a replay)
    party_cases: Table | None = None  # scorecards (SPEC section 12); None: not kept
    watchlist: Table | None = None
    party_stats: Table | None = None
    party_wage_gaps: Table | None = None

    @property
    def folded(self) -> tuple[Table, ...]:
        """The tables that are a pure fold of the journey log."""
        extra = tuple(table for table in (self.party_cases, self.watchlist, self.party_stats, self.party_wage_gaps)
                      if table is not None)
        return (self.cases, self.timeline, self.alerts, self.job_offers, *extra)


LIVE = Views(Case.__table__, TimelineEvent.__table__, Alert.__table__, JobOffer.__table__, AlertOutbox.__table__,
             PartyCase.__table__, WatchlistEntry.__table__, PartyStats.__table__, PartyWageGap.__table__)


def shadow(engine: Engine) -> Views:
    """Fresh, empty shadow tables (dropped first if a previous rebuild left them behind)."""
    metadata = MetaData()
    copies = {}
    for table in LIVE.folded:
        copy = Table(table.name + SHADOW_SUFFIX, metadata, *(column._copy() for column in table.columns))
        copies[table.name] = copy
    metadata.drop_all(engine)
    metadata.create_all(engine)
    live = LIVE
    return Views(*(copies[t.name] for t in (live.cases, live.timeline, live.alerts, live.job_offers)), outbox=None,
                 **{name: copies[getattr(live, name).name]
                    for name in ("party_cases", "watchlist", "party_stats", "party_wage_gaps")})


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
