"""One structlog line per request, for both HTTP services (the query service passes its own logger
name): method, path, status, latency, and the ids a handler adds with
`log_fields(request).update(...)` (agency_id, event_id, case_id, counts). Never payloads: they
carry personal data."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import get_logger

LOGGER = "passage.gateway.requests"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes hit these every few seconds


def log_fields(request: Request) -> dict[str, Any]:
    """The dict this request's log line is built from (shared through the ASGI scope)."""
    return request.scope.setdefault("state", {}).setdefault("log", {})


class RequestLog:
    """Pure ASGI middleware (no body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, logger: str = LOGGER) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        fields = scope.setdefault("state", {}).setdefault("log", {})
        structlog.contextvars.clear_contextvars()  # a request's lines carry only its own ids
        status = 500  # what the client sees if the app fails before answering

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            log = get_logger(self.logger)  # looked up per request so tests can capture it
            emit = log.debug if scope["path"] in QUIET_PATHS and status < 500 else log.info
            case_id = (scope.get("path_params") or {}).get("case_id")
            if case_id is not None:  # the query service's /v1/cases/{case_id}/...: the case in hand
                fields.setdefault("case_id", case_id)
            emit(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
                **fields,
            )
