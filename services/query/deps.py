"""FastAPI dependencies as `Annotated` aliases: what every route may ask for.

The app's clients (`services.bootstrap.Clients`: engine, publisher, journey publisher) are built
once by `create_app` and kept on `app.state`; a route never builds its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from services.bootstrap import Clients

__all__ = ["Clients", "ClientsDep", "DbDep", "get_clients", "get_db"]


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
    db = Session(clients.engine)
    try:
        yield db
    finally:
        db.close()


ClientsDep = Annotated[Clients, Depends(get_clients)]
DbDep = Annotated[Session, Depends(get_db)]
