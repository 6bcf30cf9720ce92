"""The tables the worker writes, as one value, so a replay can fold into shadow copies.

`LIVE` are the views the query service reads. `shadow(...)` are same-shaped `<name>_rebuild`
tables; `swap` puts their rows in place of the live rows in the caller's transaction.

On PostgreSQL a shadow table is `CREATE TABLE ... (LIKE <live> INCLUDING ALL)`: the live table's
columns, defaults, constraints and indexes as the migrations made them, whatever they are. The
indexes are kept up while the rebuild writes (the timeline streams while the log is read, so the
database maintains them on another core while the fold runs), and the swap renames: the live
table is dropped, the shadow takes its name, and each shadow index takes the name of the live
index with the same definition. Renaming costs the same for any size of view, where deleting and
re-inserting every row (what the swap did before, and still does on SQLite, where shadows carry
only their primary keys) grew with the views: 13-22% of a rebuild. The price: dropping a table
takes an ACCESS EXCLUSIVE lock, so readers wait for the swap's transaction (milliseconds, plus the
few events folded in it) instead of reading the old rows meanwhile; they never see a mixture.
A live table that something else depends on (a foreign key, a view) cannot be dropped: the swap
then copies the rows as before (`copy_swap`), in a savepoint, and says so in the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import psycopg
from sqlalchemy import Connection, MetaData, Table, delete, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from services.logs import get_logger
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

log = get_logger(__name__)

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


def shadow(engine: Engine, like_live: bool = True, tables: Iterable[Table] | None = None) -> Views:
    """Fresh, empty shadow tables (dropped first if a previous rebuild left them behind): on
    PostgreSQL like the live tables, indexes included (`like_live`; else only primary keys).
    `tables`: only these of `shadow_tables().folded` (a replay makes the timeline first, the
    others while its fold runs); the others are left as they are."""
    views = shadow_tables()
    chosen = [table for table in views.folded if tables is None or table in tables]
    if engine.dialect.name != "postgresql" or not like_live:
        views.cases.metadata.drop_all(engine, tables=chosen)
        views.cases.metadata.create_all(engine, tables=chosen)
        return views
    with engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote
        # One statement for what a previous rebuild left, not a lookup and a drop per table.
        connection.execute(text(f"DROP TABLE IF EXISTS {', '.join(quote(table.name) for table in chosen)}"))
        for source, target in zip(LIVE.folded, views.folded, strict=True):
            if target in chosen:
                connection.execute(text(f"CREATE TABLE {quote(target.name)} (LIKE {quote(source.name)} INCLUDING ALL)"))
    return views


ACCOUNTABILITY = ("party_cases", "watchlist", "party_stats", "party_wage_gaps")


@cache
def shadow_tables() -> Views:
    """The shadow tables' definitions (a bulk rebuild's job processes write into existing ones):
    made once per process (copying every column takes ~40 ms), so forked jobs inherit them."""
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


def analyze(engine: Engine, tables: Iterable[Table]) -> None:
    """PostgreSQL: gather the planner's statistics on `tables` (shadow tables renamed in would
    otherwise have none until autovacuum comes by)."""
    names = [table.name for table in tables]
    if engine.dialect.name != "postgresql" or not names:
        return
    with engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(text(f"ANALYZE {', '.join(quote(name) for name in names)}"))


def drop(engine: Engine, views: Views) -> None:
    with engine.begin() as connection:
        for table in views.folded:
            table.drop(connection, checkfirst=True)


def swap(connection: Connection, rebuilt: Views, live: Views = LIVE) -> None:
    """Put the rebuilt views in place of the live ones, in the caller's transaction: readers see
    the old views until it commits and the new ones after, never a mixture. PostgreSQL: by
    renaming (see the module's docstring); elsewhere, or when a live table cannot be dropped, by
    copying the rows."""
    if connection.dialect.name != "postgresql":
        copy_swap(connection, rebuilt, live)
        return
    try:
        with connection.begin_nested():
            rename_swap(connection, rebuilt, live)
    except DBAPIError as error:
        if not isinstance(error.orig, psycopg.errors.DependentObjectsStillExist):
            raise
        log.warning(
            "a live view has dependent objects and cannot be swapped by renaming; copying its rows instead",
            reason=str(error.orig).splitlines()[0],
        )
        copy_swap(connection, rebuilt, live)


def rename_swap(connection: Connection, rebuilt: Views, live: Views = LIVE) -> None:
    """PostgreSQL: drop each live table and rename its shadow (made `LIKE` it) and the shadow's
    indexes to the live names."""
    quote = connection.dialect.identifier_preparer.quote
    for source, target in zip(rebuilt.folded, live.folded, strict=True):
        names = _index_names(connection, target.name)
        renames = []
        for definition, index in _indexes(connection, source.name):
            if not names.get(definition):
                raise LookupError(
                    f"the shadow table {source.name} has an index that {target.name} lacks ({definition}): "
                    "run the replay again (it makes its shadow tables anew from the live ones)"
                )
            renames.append((index, names[definition].pop()))
        missing = [name for left in names.values() for name in left]
        if missing:  # an index made on the live table after the shadow was made LIKE it
            raise LookupError(
                f"the live table {target.name} has indexes its shadow lacks ({', '.join(missing)}): "
                "run the replay again (it makes its shadow tables anew from the live ones)"
            )
        connection.execute(text(f"DROP TABLE {quote(target.name)}"))
        connection.execute(text(f"ALTER TABLE {quote(source.name)} RENAME TO {quote(target.name)}"))
        for index, name in renames:
            connection.execute(text(f"ALTER INDEX {quote(index)} RENAME TO {quote(name)}"))


def _indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    """(definition without its name and table, index name) of each index of `table`."""
    rows = connection.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(:table) ORDER BY c.relname"
        ),
        {"table": table},
    ).all()
    # "CREATE [UNIQUE] INDEX <name> ON <schema>.<table> USING <rest>": what sets two tables' indexes apart is
    # UNIQUE and the rest.
    return [
        (definition.split(" INDEX ", 1)[0] + " " + definition.split(" USING ", 1)[1], name) for name, definition in rows
    ]


def _index_names(connection: Connection, table: str) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for definition, name in _indexes(connection, table):
        names.setdefault(definition, []).append(name)
    return names


def copy_swap(connection: Connection, rebuilt: Views, live: Views = LIVE) -> None:
    """Replace every live row by the rebuilt rows, and drop the rebuilt tables."""
    for source, target in zip(rebuilt.folded, live.folded, strict=True):
        connection.execute(delete(target))
        names = [column.name for column in target.columns]
        connection.execute(insert(target).from_select(names, select(*(source.c[name] for name in names))))
        source.drop(connection)
