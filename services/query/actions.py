"""Officer actions become events on the journey topic (SPEC section 3, "Officer actions").

The query service never writes the views: it publishes `case.note_added`,
`case.alert_acknowledged` or `case.alert_resolved` through the one journey publisher
(`services.journey`: the same record shape and sealing as the gateway's), stamped with Passage's
own source, and the worker folds them like any other event. The route answers 202
only after Kafka acknowledged the record; 503 when it did not (nothing was promised).

Every officer action goes through `publish_officer_event`, and so gets, with nothing of its own:
- `Idempotency-Key` (SPEC section 7). `ActionContext` notes the header and a fingerprint of the
  request (method, path, body); `current_officer` calls `replay_if_answered` once the officer is
  known, before the route's own checks. The same key from the same officer gets the same answer,
  202 with the same event_id (uuid5 of officer and key, so even two racing requests publish one
  event). The same key on another request is 422 `idempotency_key_reused`; while the first
  request is still publishing, 409 `idempotency_key_in_progress` (retry). Keys are kept in
  `officer_action_keys`.
- Exclusive actions (`Once`): a row in `officer_action_claims` per (subject, action), e.g.
  (alert_id, resolve), inserted before publishing. Its primary key makes concurrent requests, in
  any number of query processes, race on one INSERT: exactly one publishes, the others get 409.
  A claim whose publish failed (503) is released, so a retry can succeed. Resolving is once for
  good; an acknowledgement's claim is held while it is published (concurrent acknowledgements:
  one 202, the others 409; acknowledging again later, say with a note, is allowed as before), and
  acknowledging after a resolve was claimed is 409.
"""

from __future__ import annotations

import hashlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from events import CATALOGUE, InvalidEvent, Source, stamp, validate
from events.types import AgencyKind
from services.errors import PublishFailed
from services.journey import journey_record
from services.logs import get_logger
from services.query.deps import Clients, Db
from services.storage.tables import OfficerActionClaim, OfficerActionKey, table_of
from services.web import ApiError

log = get_logger(__name__)
QUERY_SOURCE = Source(agency_id="passage-query", agency_kind=AgencyKind.passage)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
PENDING, ANSWERED = "pending", "answered"
_KEY_NAMESPACE = uuid.UUID("6f1f0c2e-4b7a-5d3c-9e21-7a0b8c4d2e10")
keys = table_of(OfficerActionKey)
claims = table_of(OfficerActionClaim)


@dataclass
class ActionRequest:
    """This request's Idempotency-Key and fingerprint; `officer_id` is filled in by authentication.
    Mutable on purpose: the holder is shared by the request's dependency and route threads."""

    key: str
    fingerprint: str
    officer_id: str | None = None


_request: ContextVar[ActionRequest | None] = ContextVar("passage_officer_action", default=None)


class Replayed(Exception):
    """The answer given before to this officer's Idempotency-Key."""

    def __init__(self, event_id: str) -> None:
        super().__init__(event_id)
        self.event_id = event_id


@dataclass(frozen=True)
class Once:
    """An action that happens at most once per subject; `ruled_out_by`: actions on the same subject
    after which this one is pointless (acknowledging a resolved alert)."""

    subject: str
    action: str
    conflict: str  # the 409 message
    ruled_out_by: tuple[str, ...] = ()
    # False: the claim is held only while publishing (concurrent calls get 409; a later call may
    # repeat the action, e.g. acknowledging again with a note). True: once for good (resolve).
    lasting: bool = True


class ActionContext:
    """Pure ASGI middleware: note a POST's Idempotency-Key and fingerprint for the request.
    Installed inside `hardening.JsonBodyLimits`, which has read the body already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = None
        if scope["type"] == "http" and scope["method"] == "POST":
            key = next(
                (
                    value.decode("latin-1")
                    for name, value in scope["headers"]
                    if name == IDEMPOTENCY_HEADER.lower().encode()
                ),
                None,
            )
        if key is None:
            await self.app(scope, receive, send)
            return
        body = scope.get("state", {}).get("raw_body", b"")
        digest = hashlib.sha256(f"POST {scope['path']}\n".encode() + body).hexdigest()
        token = _request.set(ActionRequest(key, digest))
        try:
            await self.app(scope, receive, send)
        finally:
            _request.reset(token)


def install(app: FastAPI) -> None:
    """Call before `hardening.install` (so the body is read before this runs)."""
    app.add_middleware(ActionContext)

    @app.exception_handler(Replayed)
    async def _replayed(_request: Request, replayed: Replayed) -> JSONResponse:
        return JSONResponse({"event_id": replayed.event_id}, 202, headers={"Idempotent-Replayed": "true"})


def replay_if_answered(db: Db, officer_id: str) -> None:
    """For an authenticated request with an Idempotency-Key: raise `Replayed` when this officer's
    key was answered already, or the ApiError its state calls for; otherwise return."""
    request = _request.get()
    if request is None:
        return
    if not 1 <= len(request.key) <= MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in request.key):
        raise ApiError(
            422,
            f"the {IDEMPOTENCY_HEADER} header must be 1-{MAX_KEY_LENGTH} visible ASCII characters "
            "(a UUID is a good key)",
            code="invalid",
        )
    request.officer_id = officer_id
    row = db.execute(
        select(keys.c.fingerprint, keys.c.event_id, keys.c.status).where(
            keys.c.officer_id == officer_id, keys.c.key == request.key
        )
    ).first()
    if row is None:
        return
    if row.fingerprint != request.fingerprint:
        raise ApiError(
            422,
            f"this {IDEMPOTENCY_HEADER} was used for another request; use a new key for a new action",
            code="idempotency_key_reused",
        )
    if row.status == PENDING:
        raise ApiError(
            409,
            f"a request with this {IDEMPOTENCY_HEADER} is still being handled; retry in a few seconds",
            code="idempotency_key_in_progress",
            headers={"Retry-After": "2"},
        )
    raise Replayed(row.event_id)


def publish_officer_event(
    clients: Clients, event_type: str, case_id: str, payload: dict[str, Any], *, once: Once | None = None
) -> str:
    """Validate, stamp and publish one officer event; returns its event_id once Kafka acknowledged it.
    Honours the request's Idempotency-Key and, with `once`, claims the action first (409 if taken)."""
    request = _request.get()
    keyed = request if request is not None and request.officer_id is not None else None
    event_id = str(uuid.uuid5(_KEY_NAMESPACE, f"{keyed.officer_id}\n{keyed.key}") if keyed else uuid.uuid4())
    officer_id = keyed.officer_id if keyed and keyed.officer_id is not None else str(payload.get("officer_id", ""))
    engine = clients.engine
    if keyed is not None:
        _reserve(engine, keyed, event_id)
    try:
        if once is not None:
            _claim(engine, once, event_id, officer_id)
        published = False
        try:
            _publish(clients, event_type, case_id, payload, event_id)
            published = True
        finally:
            if once is not None and not (published and once.lasting):
                _release(engine, once, event_id)
    except ApiError:
        if keyed is not None:
            _forget(engine, keyed)
        raise
    if keyed is not None:
        with engine.connect() as connection:
            connection.execute(
                update(keys)
                .where(keys.c.officer_id == keyed.officer_id, keys.c.key == keyed.key)
                .values(status=ANSWERED)
            )
            connection.commit()
    return event_id


def _publish(clients: Clients, event_type: str, case_id: str, payload: dict[str, Any], event_id: str) -> None:
    now = datetime.now(UTC)
    data = {
        "event_id": event_id,
        "event_type": event_type,
        "schema_version": CATALOGUE[event_type].latest_version,
        "case_id": case_id,
        "occurred_at": now.isoformat(),
        "payload": payload,
    }
    try:
        event = stamp(validate(data, now=now), recorded_at=now, source=QUERY_SOURCE)
    except InvalidEvent as error:  # the request models carry the same limits; this is a last guard
        details = [{"path": p.path, "message": p.message} for p in error.problems]
        raise ApiError(422, "the officer event would be invalid; fix the fields listed in details", details) from None
    try:
        clients.journey.publish([journey_record(clients.settings.journey_topic, event)])
    except PublishFailed as error:
        log.warning("officer event not acknowledged", event_type=event_type, case_id=case_id, error=str(error))
        raise ApiError(
            503,
            "Kafka did not acknowledge the event, so nothing was recorded; retry in a few seconds",
            headers={"Retry-After": "5"},
        ) from None
    log.info("officer event published", event_type=event_type, case_id=case_id, event_id=event_id)


def _reserve(engine: Engine, request: ActionRequest, event_id: str) -> None:
    """Hold the key while publishing; a racing request with the same key gets its answer or 409."""
    if request.officer_id is None:
        raise ValueError("an Idempotency-Key is held per officer: authenticate the request before reserving its key")
    officer_id = request.officer_id
    row = {
        "officer_id": request.officer_id,
        "key": request.key,
        "fingerprint": request.fingerprint,
        "event_id": event_id,
        "status": PENDING,
        "created_at": datetime.now(UTC),
    }
    try:
        with engine.connect() as connection:
            connection.execute(insert(keys).values(**row))
            connection.commit()
    except IntegrityError:
        with Session(engine) as db:
            replay_if_answered(db, officer_id)  # raises: answered, reused or in progress
        raise ApiError(
            409,
            f"a request with this {IDEMPOTENCY_HEADER} is still being handled; retry in a few seconds",
            code="idempotency_key_in_progress",
            headers={"Retry-After": "2"},
        ) from None


def _forget(engine: Engine, request: ActionRequest) -> None:
    """The action was refused or not published: the key answers nothing yet, so a retry is fresh."""
    with engine.connect() as connection:
        connection.execute(
            delete(keys).where(
                keys.c.officer_id == request.officer_id, keys.c.key == request.key, keys.c.status == PENDING
            )
        )
        connection.commit()


def _claim(engine: Engine, once: Once, event_id: str, officer_id: str) -> None:
    with engine.connect() as connection:
        if once.ruled_out_by:
            taken = connection.execute(
                select(claims.c.action).where(claims.c.subject == once.subject, claims.c.action.in_(once.ruled_out_by))
            ).first()
            if taken is not None:
                raise ApiError(409, once.conflict)
        try:
            connection.execute(
                insert(claims).values(
                    subject=once.subject,
                    action=once.action,
                    event_id=event_id,
                    officer_id=officer_id,
                    claimed_at=datetime.now(UTC),
                )
            )
            connection.commit()
        except IntegrityError:
            raise ApiError(409, once.conflict) from None


def _release(engine: Engine, once: Once, event_id: str) -> None:
    with engine.connect() as connection:
        connection.execute(
            delete(claims).where(
                claims.c.subject == once.subject, claims.c.action == once.action, claims.c.event_id == event_id
            )
        )
        connection.commit()
