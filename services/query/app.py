"""The query service's app: `create_app` wires the shared clients (`services.bootstrap`) into it.

Built per call (no module-level app), so tests pass a SQLite engine and a fake publisher, and
`passage query` passes the real ones. Clients the factory creates itself are closed on shutdown.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from services import hardening
from services.bootstrap import bootstrap
from services.config import Settings
from services.console import create_console
from services.journey import Publishes
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
from services.web import ApiError, error_response, service_app

log = get_logger(__name__)
DESCRIPTION = """Welfare officers' read API over the welfare and protection views (SPEC section 7).
Every route under /v1 needs `Authorization: Bearer <officer token>` (`passage officer add`)."""


def create_app(settings: Settings, *, engine: Engine | None = None, publisher: Publishes | None = None) -> FastAPI:
    # No ping per pooled connection (see deps.ViewSession); autocommit (see deps.get_db).
    clients = bootstrap(settings, engine=engine, publisher=publisher, pre_ping=False).autocommit()
    app = service_app("query", "Passage query API", DESCRIPTION, clients, request_logger="passage.query.requests")
    app.state.clients = clients

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, error: OperationalError) -> JSONResponse:
        log.warning("the view database is unreachable", error=str(error).splitlines()[0][:300])
        return error_response(
            ApiError(503, "the case database is unreachable; retry in a few seconds", headers={"Retry-After": "5"})
        )

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
