"""What both HTTP services share: the app they start from (`service_app`), the SPEC error shape,
health and readiness, metrics.

Errors are `{"error": {"code", "message", "details": [...]}}` (SPEC section 7). Raise `ApiError`
from a handler; FastAPI's own validation errors and HTTP exceptions are converted to the same shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

if TYPE_CHECKING:
    from services.bootstrap import Clients

CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: list[Any] | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers


def service_app(service: str, title: str, description: str, clients: Clients, *, request_logger: str) -> FastAPI:
    """The start of both HTTP services' apps: the SPEC error shape, one log line per request (to
    `request_logger`) and a latency histogram per route (one middleware,
    `services.gateway.access_log.RequestLog`), `/metrics`, `/healthz` and `/readyz` over Kafka and
    the database, and `clients.close()` on shutdown. The caller adds its routes, then
    `hardening.install` (outermost)."""
    from services.gateway.access_log import RequestLog

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        clients.close()

    # No OpenTelemetry here (metrics are Prometheus', traces none): FastAPI's native telemetry off
    # spares every request its look-up of the global OpenTelemetry providers (issue 20).
    app = FastAPI(
        title=title,
        version="1",
        description=description,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(RequestLog, logger=request_logger, service=service)
    install_metrics(app)
    add_health_routes(app, {"kafka": clients.publisher.reachable, "database": database_check(clients.engine)})
    return app


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.message, error.details), error.status, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"path": ".".join(str(part) for part in item["loc"]), "message": item["msg"]} for item in error.errors()
        ]
        return error_response(ApiError(422, "the request is invalid; fix the fields listed in details", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "request failed"
        return error_response(ApiError(error.status_code, message, headers=getattr(error, "headers", None)))


def add_health_routes(app: FastAPI, checks: dict[str, Callable[[], bool]]) -> None:
    """`/healthz`: the process is alive. `/readyz`: every dependency check passes, else 503
    naming the ones that failed."""

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "a dependency is unreachable"}})
    def readyz() -> JSONResponse:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = bool(check())
            except Exception:  # a readiness probe reports failure; it never raises
                results[name] = False
        failed = [name for name, ok in results.items() if not ok]
        if failed:
            body = error_body(
                "unavailable", f"not ready: {', '.join(failed)} unreachable; check they are running", [results]
            )
            return JSONResponse(body, 503)
        return JSONResponse({"status": "ready", "checks": results})


def database_check(engine) -> Callable[[], bool]:
    from sqlalchemy import text

    def check() -> bool:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    return check


def install_metrics(app: FastAPI) -> None:
    """`GET /metrics` (Prometheus text format, SPEC section 14); each request's latency is
    observed by the request log (`services.gateway.access_log.RequestLog`)."""
    from fastapi.responses import Response

    from services import metrics

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)


# Young generation every 20,000 allocations (default 700): a request allocates thousands of
# objects and frees nearly all of them by reference counting; the few cycles wait a little longer.
GC_THRESHOLDS = (20_000, 20, 100)


def serve_http(app: FastAPI, host: str, port: int) -> int:
    """Run a service with uvicorn until SIGINT/SIGTERM; 0 after the graceful stop.

    uvicorn stops gracefully on SIGTERM and then raises the signal again for the handler that was
    in place before it, which by default kills the process (exit -15, a failure to systemd or
    Kubernetes). A no-op handler in place first makes that re-raise harmless: exit 0.

    The garbage collector is tuned for a long-running server (issue 20): what the app built at
    start (modules, models, routes) is frozen out of every later collection, and a young
    collection runs every `GC_THRESHOLDS[0]` allocations rather than 700. With the defaults a
    gateway spent about a tenth of its CPU collecting, a full collection walking every object of
    the app; frozen and with the larger threshold, a third of that."""
    import gc
    import signal

    import uvicorn

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    signal.signal(signal.SIGTERM, lambda *_args: None)
    # Our own request log replaces uvicorn's access log; log_config=None keeps our logging setup.
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)
    return 0
