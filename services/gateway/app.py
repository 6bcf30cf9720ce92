"""The agency gateway (SPEC section 7): agencies POST events; they are checked, stamped, written to
the journey topic, and answered 202 only once Kafka acknowledged them.

Per request, in this order: 413 from Content-Length (before anything is read), 401 from the key
(503 if the registry database is down), 413 while reading the body, 400 if it is not JSON,
403 outside the agency kind's mandate, 422 listing every field problem, 503 if Kafka does not
acknowledge in time (Retry-After; retrying the same event_id is safe).
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from events import Source
from events.duplicates import CONFLICT
from services import hardening
from services.config import Settings
from services.errors import PublishFailed
from services.gateway import openapi
from services.gateway.access_log import LOGGER, log_fields
from services.gateway.admission import (
    FORBIDDEN,
    INVALID,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    TOO_LARGE,
    Admitted,
    MalformedJson,
    Refused,
)
from services.gateway.agencies import authenticate
from services.gateway.binding import NOT_PARTY
from services.gateway.bootstrap import Gateway, bootstrap
from services.gateway.measures import count_malformed, count_outcomes
from services.journey import Publishes
from services.logs import get_logger
from services.web import ApiError, service_app

log = get_logger(__name__)
RETRY_AFTER = {"Retry-After": "5"}
# The status each refusal reason answers (SPEC section 7): the one place admission meets HTTP.
STATUS = {FORBIDDEN: 403, NOT_PARTY: 403, CONFLICT: 409, TOO_LARGE: 413, INVALID: 422}
UNAUTHORIZED = (
    "no valid agency key; send the header 'Authorization: Bearer <agency key>' (`passage agency add` issues keys)"
)


def create_app(settings: Settings, *, engine: Engine | None = None, publisher: Publishes | None = None) -> FastAPI:
    gateway = bootstrap(settings, engine=engine, publisher=publisher)
    app = service_app(
        "gateway",
        "Passage gateway",
        "Agencies publish journey events; each is on Kafka before the answer 202.",
        gateway.clients,
        request_logger=LOGGER,
    )
    app.state.gateway = gateway
    app.include_router(router)
    openapi.install_openapi(app)
    hardening.install(app, production=settings.env == "production", title="Passage gateway")
    return app


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


class DeclaredSize:
    """Refuse a body whose declared Content-Length is over the limit before reading any of it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def __call__(self, request: Request) -> None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise _too_large(self.limit)


def current_agency(
    request: Request,
    gateway: GatewayDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> Source:
    """The authenticated agency (sync: FastAPI runs it in a worker thread, off the event loop)."""
    if credentials is None:
        raise ApiError(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    try:
        source = authenticate(gateway.engine, gateway.settings.secret_key, credentials.credentials)
    except SQLAlchemyError as error:
        log.warning("agency registry unreachable", error=type(error).__name__)
        raise ApiError(
            503,
            "the agency registry (database) is unreachable; nothing was accepted, retry shortly",
            headers=RETRY_AFTER,
        ) from None
    if source is None:
        raise ApiError(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    log_fields(request)["agency_id"] = source.agency_id
    return source


CurrentAgency = Annotated[Source, Depends(current_agency)]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": openapi.ErrorBody} for status in (400, 401, 403, 409, 413, 422, 503)
}
router = APIRouter(prefix="/v1", tags=["events"])


@router.post(
    "/events",
    status_code=202,
    response_model=openapi.Accepted,
    responses=ERRORS,
    dependencies=[Depends(DeclaredSize(MAX_EVENT_BYTES))],
    openapi_extra=openapi.request_body("Event"),
)
async def publish_event(request: Request, agency: CurrentAgency, gateway: GatewayDep) -> JSONResponse:
    """One event; 202 only after Kafka acknowledged it (acks=all)."""
    body = await _read_body(request, MAX_EVENT_BYTES)
    outcome = await _blocking(gateway.intake.one, body, agency)
    count_outcomes([outcome])
    fields = log_fields(request)
    fields["event_id"] = outcome.event_id
    if isinstance(outcome, Refused):
        raise _refusal(outcome)
    fields["case_id"] = outcome.case_id
    # Every later line of this request (its request log too) names the event it is about.
    structlog.contextvars.bind_contextvars(
        case_id=outcome.case_id, event_id=outcome.event_id, correlation_id=_correlation_id(outcome)
    )
    return JSONResponse({"event_id": outcome.event_id, "status": "accepted"}, 202)


@router.post(
    "/events/batch",
    response_model=openapi.BatchResults,
    responses=ERRORS,
    dependencies=[Depends(DeclaredSize(MAX_BATCH_BYTES))],
    openapi_extra=openapi.request_body("EventBatch"),
)
async def publish_batch(request: Request, agency: CurrentAgency, gateway: GatewayDep) -> JSONResponse:
    """Up to 500 events; valid ones are accepted even when others are rejected; results in order."""
    body = await _read_body(request, MAX_BATCH_BYTES)
    outcomes = await _blocking(gateway.intake.batch, body, agency)
    count_outcomes([outcomes] if isinstance(outcomes, Refused) else outcomes)
    if isinstance(outcomes, Refused):
        raise _refusal(outcomes)
    results = [_result(outcome) for outcome in outcomes]
    accepted = sum(1 for outcome in outcomes if isinstance(outcome, Admitted))
    log_fields(request).update(events=len(outcomes), accepted=accepted, rejected=len(outcomes) - accepted)
    return JSONResponse({"results": results}, 200)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it grows past `limit` (chunked uploads declare no length)."""
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:  # nobody is left to answer; say so in the log, not as a 500
        raise ApiError(400, "the client disconnected before the body was complete") from None
    return b"".join(chunks)


async def _blocking(call, body: bytes, agency: Source):
    """Run an intake call in a worker thread; map its failures to the SPEC answers."""
    try:
        return await run_in_threadpool(call, body, agency)
    except MalformedJson as error:
        count_malformed()
        raise ApiError(400, f"{error}; send one JSON document encoded as UTF-8") from None
    except PublishFailed as error:
        log.warning("kafka did not acknowledge", error=str(error))
        raise ApiError(
            503,
            "Kafka is unavailable or did not acknowledge in time; nothing was accepted. "
            "Retrying with the same event_id is safe",
            headers=RETRY_AFTER,
        ) from None
    except SQLAlchemyError as error:  # the views that case binding, conflicts and keys are read from
        log.warning("view database unreachable", error=type(error).__name__)
        raise ApiError(
            503,
            "the view database is unreachable, so case binding could not be checked; nothing was "
            "accepted. Retrying with the same event_id is safe",
            headers=RETRY_AFTER,
        ) from None


def _refusal(refused: Refused) -> ApiError:
    return ApiError(STATUS[refused.code], refused.message, refused.errors, code=refused.code)


def _correlation_id(outcome: Admitted) -> str | None:
    correlation_id = outcome.event.correlation_id if outcome.event is not None else None
    return str(correlation_id) if correlation_id is not None else None


def _result(outcome: Admitted | Refused) -> dict:
    if isinstance(outcome, Admitted):
        return {"event_id": outcome.event_id, "status": "accepted", "errors": []}
    errors = [{"code": outcome.code, **error} for error in outcome.errors]
    return {"event_id": outcome.event_id, "status": "rejected", "errors": errors}


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the body is over {limit // 1024} KiB; send it in smaller parts "
        f"(one event at most {MAX_EVENT_BYTES // 1024} KiB; batches of fewer events)",
    )
