"""FastAPI dependencies as `Annotated` aliases: what every route may ask for.

The app's clients (engine, publisher) are built once by `create_app` and kept on `app.state`;
a route never builds its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.config import Settings
from services.kafka.producer import Publisher


@dataclass(frozen=True)
class Clients:
    settings: Settings
    engine: Engine
    publisher: Publisher


async def get_clients(request: Request) -> Clients:
    # async: it only reads app state, so it runs on the event loop instead of costing a thread hop.
    return request.app.state.clients


async def get_session(clients: Annotated[Clients, Depends(get_clients)]) -> AsyncIterator[Session]:
    """One session per request (plain SQLAlchemy: the routes run Core statements, see `sql`);
    routes that write commit before they answer.

    Made on the event loop (a Session touches the database only at its first statement, which
    runs in the route's worker thread) and closed in a worker thread (closing returns the
    connection to the pool: a round trip): one thread hop fewer per request than a sync generator.
    """
    session = Session(clients.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


ClientsDep = Annotated[Clients, Depends(get_clients)]
SessionDep = Annotated[Session, Depends(get_session)]
