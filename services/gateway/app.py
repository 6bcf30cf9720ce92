"""The agency gateway (SPEC section 7): agencies POST events; they are checked, stamped, written to
the journey topic, and answered 202 only once Kafka acknowledged them.

Per request, in this order: 413 from Content-Length (before anything is read), 401 from the key
(503 if the registry database is down), 413 while reading the body, 400 if it is not JSON,
403 outside the agency kind's mandate, 422 listing every field problem, 503 if Kafka does not
acknowledge in time (Retry-After; retrying the same event_id is safe).

The request path, kept cheap because it runs for every event (issue 20): the routes read the
Authorization header and Content-Length themselves (no FastAPI dependencies); the key is checked
against the registry in the same worker-thread call as the event (a key never seen before is
also checked before the body is read, so the order above holds); single events arriving while
others are in hand are taken together (`services.gateway.grouping`), each still answered its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security.utils import get_authorization_scheme_param
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
from services.gateway.agencies import KeyRefused, RegistryUnreachable
from services.gateway.binding import NOT_PARTY
from services.gateway.bootstrap import Gateway, bootstrap
from services.gateway.measures import count_malformed, count_outcomes
from services.journey import Publishes
from services.logs import get_logger
from services.web import ApiError, service_app

log = get_logger(__name__)
T = TypeVar("T")
RETRY_AFTER = {"Retry-After": "5"}
ACCEPTED = b'{"event_id":"%s","status":"accepted"}'
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


def _declared_size(request: Request, limit: int) -> None:
    """Refuse a body whose declared Content-Length is over the limit before reading any of it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


async def _authorized_body(request: Request, limit: int) -> tuple[Gateway, str, bytes]:
    """Every publish route's start, in SPEC order: the declared size (413), the key (401/503), then
    the body as it is read (413). Returns the gateway, the key's hash and the body."""
    gateway = _gateway(request)
    _declared_size(request, limit)
    key_hash = await _agency_key(request, gateway)
    return gateway, key_hash, await _read_body(request, limit, gateway, key_hash)


async def _agency_key(request: Request, gateway: Gateway) -> str:
    """The hash of the request's agency key. A key not seen before is checked now, before the
    body is read (401, or 503 when the registry is down); a key seen before is checked again in
    the same worker-thread call as its event (`_as_holder`), so revocation still holds at once."""
    scheme, key = get_authorization_scheme_param(request.headers.get("authorization"))
    if not key or scheme.lower() != "bearer":
        raise _unauthorized(request)
    key_hash = gateway.credentials.key_hash(key)
    seen = gateway.credentials.seen(key_hash)
    if seen is None:
        seen = await _holder(request, gateway, key_hash)
    log_fields(request)["agency_id"] = seen.agency_id  # dropped again if the key is refused later
    return key_hash


async def _holder(request: Request, gateway: Gateway, key_hash: str) -> Source:
    try:
        source = await run_in_threadpool(_check_key, gateway, key_hash)
    except RegistryUnreachable:
        raise _registry_unreachable() from None
    if source is None:
        raise _unauthorized(request)
    return source


def _check_key(gateway: Gateway, key_hash: str) -> Source | None:
    return gateway.credentials.holders([key_hash]).get(key_hash)


def _as_holder(gateway: Gateway, key_hash: str, call: Callable[[bytes, Source], T], body: bytes) -> T:
    """In the worker thread: check the key now, then run the intake call as its agency."""
    source = _check_key(gateway, key_hash)
    if source is None:
        raise KeyRefused
    return call(body, source)


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": openapi.ErrorBody} for status in (400, 401, 403, 409, 413, 422, 503)
}
router = APIRouter(prefix="/v1", tags=["events"])


@router.post(
    "/events",
    status_code=202,
    response_model=openapi.Accepted,
    responses=ERRORS,
    openapi_extra=openapi.request_body("Event"),
)
async def publish_event(request: Request) -> Response:
    """One event; 202 only after Kafka acknowledged it (acks=all)."""
    gateway, key_hash, body = await _authorized_body(request, MAX_EVENT_BYTES)
    outcome = await _answered(request, gateway.singles.submit(key_hash, body))
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
    # The body written out: an event_id is a UUID's text, nothing in it needs escaping (issue 20).
    return Response(ACCEPTED % outcome.event_id.encode(), 202, media_type="application/json")


@router.post(
    "/events/batch",
    response_model=openapi.BatchResults,
    responses=ERRORS,
    openapi_extra=openapi.request_body("EventBatch"),
)
async def publish_batch(request: Request) -> JSONResponse:
    """Up to 500 events; valid ones are accepted even when others are rejected; results in order."""
    gateway, key_hash, body = await _authorized_body(request, MAX_BATCH_BYTES)
    outcomes = await _answered(request, run_in_threadpool(_as_holder, gateway, key_hash, gateway.intake.batch, body))
    count_outcomes([outcomes] if isinstance(outcomes, Refused) else outcomes)
    if isinstance(outcomes, Refused):
        raise _refusal(outcomes)
    results = [_result(outcome) for outcome in outcomes]
    accepted = sum(1 for outcome in outcomes if isinstance(outcome, Admitted))
    log_fields(request).update(events=len(outcomes), accepted=accepted, rejected=len(outcomes) - accepted)
    return JSONResponse({"results": results}, 200)


async def _read_body(request: Request, limit: int, gateway: Gateway, key_hash: str) -> bytes:
    """The body, refused as soon as it grows past `limit` (chunked uploads declare no length).
    A key revoked since it was last seen is still answered 401 rather than 413 or 400, as if it
    had been checked before the body (its answer does not depend on when it was seen)."""
    try:
        return await _stream_body(request, limit)
    except ApiError:
        await _holder(request, gateway, key_hash)
        raise


async def _stream_body(request: Request, limit: int) -> bytes:
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


async def _answered(request: Request, outcome: Awaitable[T]) -> T:
    """An intake call's outcome, its failures mapped to the SPEC answers (the key's first: a
    revoked key is 401 whatever the body)."""
    try:
        return await outcome
    except KeyRefused:
        raise _unauthorized(request) from None
    except RegistryUnreachable:
        raise _registry_unreachable() from None
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


def _unauthorized(request: Request) -> ApiError:
    log_fields(request).pop("agency_id", None)  # a refused key names no agency in the request log
    return ApiError(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


def _registry_unreachable() -> ApiError:
    return ApiError(
        503, "the agency registry (database) is unreachable; nothing was accepted, retry shortly", headers=RETRY_AFTER
    )


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the body is over {limit // 1024} KiB; send it in smaller parts "
        f"(one event at most {MAX_EVENT_BYTES // 1024} KiB; batches of fewer events)",
    )
