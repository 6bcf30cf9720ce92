"""FastAPI dependencies as `Annotated` aliases: what every route may ask for.

The app's clients (engine, publisher) are built once by `create_app` and kept on `app.state`;
a route never builds its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
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


def get_session(clients: Annotated[Clients, Depends(get_clients)]) -> Iterator[Session]:
    """One session per request (plain SQLAlchemy: the routes run Core statements, see `sql`);
    routes that write commit before they answer."""
    with Session(clients.engine, expire_on_commit=False) as session:
        yield session


ClientsDep = Annotated[Clients, Depends(get_clients)]
SessionDep = Annotated[Session, Depends(get_session)]
