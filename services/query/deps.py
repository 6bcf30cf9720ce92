"""FastAPI dependencies as `Annotated` aliases: what every route may ask for.

The app's clients (`services.bootstrap.Clients`: engine, publisher, journey publisher) are built
once by `create_app` and kept on `app.state`; a route never builds its own.

Two ways to the database: most routes ask for `DbDep`, a `ViewSession`; the hot reads (the case
lookup, the stats) open a `ViewConnection` (SQLAlchemy Core) in their own thread instead (see
`ViewConnection`). Code shared by both (`auth.authenticate`, `routes_cases.read_case`, the stats
functions the console calls) takes a `Db`, either of them: it only calls `execute` (on a
`ViewConnection` over psycopg the lookup's statements go to the driver's cursor: `lookup`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.engine import Connection, CursorResult, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.bootstrap import Clients

__all__ = ["Clients", "ClientsDep", "Db", "DbDep", "ViewConnection", "ViewSession", "get_clients", "get_db"]
T = TypeVar("T")


class ViewSession(Session):
    """A Session whose first statement runs once more, on a fresh connection, when the pooled
    connection it was given turns out to be dead (the database restarted since it was pooled).

    The query service's engine does not ping a connection each time it leaves the pool
    (`make_engine(pre_ping=False)`): that was one round trip of the four a case lookup made. A
    connection the server dropped fails its first statement instead; SQLAlchemy then discards
    every connection pooled before that moment, and this repeats the statement on a new one, so
    the officer sees no error, as with the ping. Only a session's first statement is repeated:
    nothing it sent before can have been applied, and every route's first statement is a read
    (the officer, or the console's session)."""

    _first_done = False

    def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Result[Any]:
        execute = super().execute
        if self._first_done:
            return execute(statement, params, **kwargs)
        self._first_done = True
        return _once_more_if_dropped(lambda: execute(statement, params, **kwargs), self.rollback)


class ViewConnection(Connection):
    """A Core connection with `ViewSession`'s one retry: its first statement runs once more, on a
    fresh connection, when the pooled one it was given turns out to be dead.

    `with ViewConnection(clients.engine) as conn:` takes one pooled connection for the whole
    request (the officer, the read, the audit row), in the route's worker thread. On the case
    lookup it spent 10-12% less of the service's CPU than a `ViewSession` from `DbDep` (three
    servers on one 1M-case database, requests interleaved, bench/query.py's setting): no session
    transaction or bind lookup per statement, and no generator dependency for FastAPI to enter
    and close. On the app's autocommit engine every statement is its own transaction, so closing
    it (returning it to the pool) does no I/O."""

    _first_done = False

    def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> CursorResult[Any]:
        execute = super().execute
        if self._first_done:
            return execute(statement, parameters, **kwargs)
        self._first_done = True
        return _once_more_if_dropped(lambda: execute(statement, parameters, **kwargs), self.rollback)


def _once_more_if_dropped(run: Callable[[], T], rollback: Callable[[], None]) -> T:
    """`run()`, and once more if it failed because the server had dropped the pooled connection
    (the rollback ends SQLAlchemy's record of the failed statement; the next one reconnects)."""
    try:
        return run()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        rollback()
        return run()


Db = Session | Connection  # what `authenticate` and the shared reads run statements on


async def get_clients(request: Request) -> Clients:
    # async: it only reads app state, so it runs on the event loop instead of costing a thread hop.
    return request.app.state.clients


async def get_db(clients: Annotated[Clients, Depends(get_clients)]) -> AsyncIterator[Session]:
    """One session per request on the app's autocommit engine: every statement is its own
    transaction (plain SQLAlchemy: the routes run Core statements, see `sql`).

    The routes read with single statements and append audit rows, so nothing needs a transaction
    across statements; autocommit spares the BEGIN and COMMIT round trips of every request, and
    an audit row is committed by its own INSERT, before the answer is sent. The session takes a
    pooled connection at its first statement, in the route's worker thread; closing it has no
    transaction to end, so it does no I/O and stays on the event loop.
    """
    db = ViewSession(clients.engine)
    try:
        yield db
    finally:
        db.close()


ClientsDep = Annotated[Clients, Depends(get_clients)]
DbDep = Annotated[Session, Depends(get_db)]
