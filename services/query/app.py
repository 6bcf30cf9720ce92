"""The query service's bootstrap: `create_app` wires settings, engine and publisher into the app.

Built per call (no module-level app), so tests pass a SQLite engine and a fake publisher, and
`passage query` passes the real ones. Clients the factory creates itself are closed on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from services import hardening
from services.config import Settings
from services.console import create_console
from services.gateway.access_log import RequestLog
from services.kafka.producer import Publisher
from services.logs import get_logger
from services.query import (
    actions,
    routes_alerts,
    routes_audit,
    routes_cases,
    routes_casework,
    routes_privacy,
    routes_scorecards,
    routes_stats,
)
from services.query.deps import Clients
from services.storage.db import make_engine
from services.web import (
    ApiError,
    add_health_routes,
    database_check,
    error_response,
    install_error_handlers,
    install_metrics,
)

log = get_logger(__name__)
DESCRIPTION = """Welfare officers' read API over the welfare and protection views (SPEC section 7).
Every route under /v1 needs `Authorization: Bearer <officer token>` (`passage officer add`)."""


def create_app(settings: Settings, *, engine: Engine | None = None, publisher: Publisher | None = None) -> FastAPI:
    owned_engine = engine is None
    owned_publisher = publisher is None
    engine = engine if engine is not None else make_engine(settings, pre_ping=False)  # see deps.ViewSession
    clients = Clients(
        settings=settings,
        engine=engine.execution_options(isolation_level="AUTOCOMMIT"),  # see deps.get_db
        publisher=publisher if publisher is not None else Publisher(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_publisher:
            clients.publisher.close()
        if owned_engine:
            engine.dispose()

    app = FastAPI(title="Passage query API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.clients = clients
    install_error_handlers(app)
    app.add_middleware(RequestLog, logger="passage.query.requests")
    install_metrics(app, "query")

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, error: OperationalError) -> JSONResponse:
        log.warning("the view database is unreachable", error=str(error).splitlines()[0][:300])
        return error_response(
            ApiError(503, "the case database is unreachable; retry in a few seconds", headers={"Retry-After": "5"})
        )

    add_health_routes(app, {"kafka": clients.publisher.reachable, "database": database_check(clients.engine)})
    for module in (
        routes_privacy,
        routes_cases,
        routes_alerts,
        routes_stats,
        routes_scorecards,
        routes_audit,
        routes_casework,
    ):
        app.include_router(module.router)
    actions.install(app)  # Idempotency-Key: inside hardening's body limits, which read the body first
    hardening.install(app, production=settings.env == "production", title="Passage query API", limit_bodies=True)
    app.mount("/console", create_console(app))  # the officer console (services/console), SPEC section 13
    return app
