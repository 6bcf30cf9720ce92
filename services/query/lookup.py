"""The case lookup's statements on PostgreSQL, run on the psycopg connection beneath SQLAlchemy's.

`GET /v1/cases/{id}` is the query service's hot read, and after its three round trips most of
its time was the service's own CPU (issue 20). SQLAlchemy's execution and result machinery was
the largest part: for each statement it reads the cursor's `description`, for which psycopg
builds a Column object, with a type lookup, per result column (about 50 a lookup), then builds
result metadata and Row objects. The same statements run on the driver's cursor cost 0.41 ms
of CPU a lookup against 0.90-1.05 ms through `Connection.execute` (same process, same database,
1,000 lookups each, 2026-12-07).

So, on PostgreSQL with psycopg, the lookup's three statements are compiled once by SQLAlchemy
from the same statement objects (`sql.OFFICER_BY_TOKEN`; `sql.CASE_WITH_ALERTS` per jurisdiction;
`sql.AUDIT_ENTRY`) and run on the pooled connection's psycopg cursor, which is in autocommit
(`ViewConnection` on the app's autocommit engine set it when it took the connection); rows come
back as plain tuples in the statement's column order. The officer read (`auth.authenticate`, the
first statement of every route on a `ViewConnection`, the stats too) falls back to SQLAlchemy when
the server had dropped the pooled connection: SQLAlchemy notices the dead connection, discards
the pool's older ones, and `ViewConnection` runs the read once more on a new one, so the officer
sees no error. Any other driver error is raised as SQLAlchemy's (`DBAPIError.instance`), so a
database that went away is the app's 503 as before. Other databases (SQLite in tests and local
runs) run the same statement objects through SQLAlchemy; the API contract tests run on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeGuard

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from services.query.deps import Db
from services.query.scope import Jurisdiction
from services.query.sql import AUDIT_ENTRY, CASE_WITH_ALERTS, OFFICER_BY_TOKEN, cases, per_jurisdiction

DIALECT = pg_psycopg.dialect()
AUDIT_COLUMNS = ("officer_id", "case_id", "action", "at", "case_ids")
case_with_alerts = per_jurisdiction(CASE_WITH_ALERTS, cases)
CASE_COLUMNS: tuple[str, ...] = tuple(CASE_WITH_ALERTS.selected_columns.keys())  # each row's order, both ways
OFFICER_SQL = str(OFFICER_BY_TOKEN.compile(dialect=DIALECT))
AUDIT_SQL = str(AUDIT_ENTRY.compile(dialect=DIALECT, column_keys=list(AUDIT_COLUMNS)))


@lru_cache(maxsize=512)
def case_sql(jurisdiction: Jurisdiction) -> tuple[str, dict[str, Any]]:
    """The case-and-alerts select for this jurisdiction as psycopg runs it, and its fixed parameters
    (the jurisdiction's countries and regions, the 'resolved' literal); `case_id` is set per call."""
    expanded = case_with_alerts(jurisdiction).compile(dialect=DIALECT).construct_expanded_state({"case_id": ""})
    return expanded.statement, dict(expanded.parameters)


def on_psycopg(db: Db) -> TypeGuard[Connection]:
    """A Core connection over psycopg in autocommit: the driver's cursor may run the statements.
    (Not in autocommit, the audit row would be in a transaction SQLAlchemy does not know of, and
    rolled back when the connection went back to the pool.)"""
    return (
        isinstance(db, Connection)
        and db.dialect.driver == "psycopg"
        and getattr(db.connection.driver_connection, "autocommit", False) is True
    )


def officer_row(db: Db, token_hash: str) -> Sequence[Any] | None:
    """The officer holding the token: `(id, role, scopes, disabled)`, as `OFFICER_BY_TOKEN`
    selects them; None when no officer holds it. A request's first statement (`auth.authenticate`)."""
    if on_psycopg(db):
        driver = db.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)  # on_psycopg
        try:
            with driver.cursor() as cursor:
                return cursor.execute(OFFICER_SQL, {"token_hash": token_hash}).fetchone()
        except psycopg.Error as error:
            if not driver.broken:
                raise DBAPIError.instance(OFFICER_SQL, None, error, psycopg.Error, hide_parameters=True) from error
            # The server dropped this pooled connection (it restarted). Through SQLAlchemy the same
            # statement fails too, and is run once more on a new connection after the pool's older
            # connections are discarded (`deps.ViewConnection`): the officer sees no error.
    return db.execute(OFFICER_BY_TOKEN, {"token_hash": token_hash}).first()


def case_rows(db: Db, jurisdiction: Jurisdiction, case_id: str) -> Sequence[Sequence[Any]]:
    """The case joined to its unresolved alerts: one row per alert, or one row of NULL alert
    columns, each in `CASE_COLUMNS` order; no rows when the case is missing or out of scope."""
    if on_psycopg(db):
        sql, fixed = case_sql(jurisdiction)
        return _run(db, sql, {**fixed, "case_id": case_id}, fetch=True)
    return db.execute(case_with_alerts(jurisdiction), {"case_id": case_id}).all()


def audit_read(db: Db, officer_id: str, case_id: str, action: str) -> None:
    """One audit row for a read of one case, committed by its own INSERT (autocommit engine)."""
    values = {"officer_id": officer_id, "case_id": case_id, "action": action, "at": datetime.now(UTC), "case_ids": None}
    if on_psycopg(db):
        _run(db, AUDIT_SQL, values, fetch=False)
    else:
        db.execute(AUDIT_ENTRY, values)


def _run(db: Connection, sql: str, params: dict[str, Any], *, fetch: bool) -> list[tuple[Any, ...]]:
    driver = db.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)  # on_psycopg
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    except psycopg.Error as error:
        if driver.broken:  # not handed out again by the pool
            db.invalidate(error)
        raise DBAPIError.instance(sql, params, error, psycopg.Error, hide_parameters=True) from error
