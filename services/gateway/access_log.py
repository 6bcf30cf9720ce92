"""One record per request, for both HTTP services (the query service passes its own logger name
and service label): a structlog line with method, path, status, latency and the ids a handler
adds with `log_fields(request).update(...)` (agency_id, event_id, case_id, counts), and the
request's latency in the histogram of its route (SPEC section 14). Never payloads: they carry
personal data.

One pure ASGI middleware does both (issue 20: it runs for every event): one timer, one wrapper
around `send`, one logger bound once per app rather than looked up per request.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import metrics
from services.logs import get_logger

LOGGER = "passage.gateway.requests"
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes hit these every few seconds


def log_fields(request: Request) -> dict[str, Any]:
    """The dict this request's log line is built from (shared through the ASGI scope)."""
    return request.scope.setdefault("state", {}).setdefault("log", {})


class RequestLog:
    """Pure ASGI middleware (no body buffering, unlike BaseHTTPMiddleware): the log line and the
    latency histogram of every HTTP request. The route label is the path template
    (`/v1/cases/{case_id}`), never the path: one series per route, and no case_id in a label;
    requests that match no route count as `unmatched`."""

    def __init__(self, app: ASGIApp, logger: str = LOGGER, service: str = "gateway") -> None:
        self.app = app
        self.service = service
        # Bound once per app: structlog's capture in tests swaps the processors inside the list
        # this logger holds, so a captured app still sees its lines.
        self.log = get_logger(logger)
        self._series: dict[tuple[str, str, int], Any] = {}

    def _histogram(self, method: str, route: str, status: int) -> Any:
        """The latency series of (method, route, status), looked up once (prometheus_client's
        `labels` checks and locks on every call); as many as the histogram itself has."""
        series = self._series.get((method, route, status))
        if series is None:
            series = metrics.REQUEST_SECONDS.labels(
                service=self.service, method=method, route=route, status=str(status)
            )
            self._series[(method, route, status)] = series
        return series

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
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self._histogram(scope["method"], route, status).observe(seconds)
            emit = self.log.debug if scope["path"] in QUIET_PATHS and status < 500 else self.log.info
            case_id = (scope.get("path_params") or {}).get("case_id")
            if case_id is not None:  # the query service's /v1/cases/{case_id}/...: the case in hand
                fields.setdefault("case_id", case_id)
            emit(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                latency_ms=round(seconds * 1000, 2),
                **fields,
            )
