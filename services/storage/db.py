"""Engine and sessions, built on demand (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

from services.config import Settings


def make_engine(settings: Settings | str, *, pre_ping: bool = True) -> Engine:
    """An engine for the view database (a Settings or a URL). SQLite gets WAL and a busy timeout
    so the worker, gateway and query service can share one file. `pre_ping`: test each pooled
    PostgreSQL connection with a round trip when it is taken from the pool, so a connection the
    server dropped (a restart) is replaced before use; the query service turns it off and repeats
    its first statement instead (services.query.deps.ViewSession)."""
    url = settings if isinstance(settings, str) else settings.db_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A bounded connect timeout: an unreachable server must become a 503 in seconds, not hang
    # a request for the operating system's TCP timeout.
    # hide_parameters: an error's text (logged, or shown in a traceback) never carries the SQL
    # parameters, which hold names, dates of birth and free text (SPEC section 7, logs).
    return create_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connected(engine: Engine, connection: Connection | None = None) -> AbstractContextManager[Connection]:
    """`connection` when the caller holds one (left open), else a new one of `engine`'s (closed on exit)."""
    return nullcontext(connection) if connection is not None else engine.connect()


def create_all(engine: Engine) -> None:
    """Create every table (tests and first runs); production schemas are migrated with Alembic."""
    from services.storage import tables  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def set_disabled(engine: Engine, model: type[SQLModel], key: str, disabled: bool) -> bool:
    """Disable or enable the registry row `key` of `model` (an agency, an officer); False when
    there is no such row."""
    with session_scope(engine) as session:
        row = session.get(model, key)
        if row is None:
            return False
        row.disabled = disabled  # every registry table has the column
        session.add(row)
        return True


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection under `conn` (psycopg's, for COPY)."""
    driver = conn.connection.driver_connection
    if driver is None:  # only after the connection was closed or invalidated
        raise RuntimeError("the database connection is closed; run the statement on an open connection")
    return driver
