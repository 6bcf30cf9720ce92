"""Cases: one case with its unresolved alerts, its timeline, the scoped list, and notes.

Every read of personal data appends an audit row before the answer is sent (SPEC section 7): a
case or its timeline (`read_case`, `read_timeline`), each page of the list (`list_cases`, one row
holding the case_ids it returned), and each refused read (`refused_read_case`,
`refused_read_timeline`: a 404, whether the case is missing or outside the officer's
jurisdiction, which the answer must not tell apart but the trail may). A case outside the
officer's jurisdiction answers exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from events import SEVERITY_RANK
from events.types import CountryCode, Severity, Stage
from services.privacy import mask_case, mask_payload, sees_identity
from services.query.actions import publish_officer_event
from services.query.auth import CallerDep, CurrentOfficer, Principal, authenticate
from services.query.deps import ClientsDep, Db, DbDep, ViewConnection
from services.query.lookup import CASE_COLUMNS, audit_read, case_rows
from services.query.models import (
    Accepted,
    AlertPublic,
    CaseDetail,
    CasePage,
    CasePublic,
    NoteIn,
    Timeline,
    TimelineEntry,
    respond,
)
from services.query.paging import DEFAULT_LIMIT, CursorParam, Limit, decode_cursor, page, strict
from services.query.params import AssignedTo, CaseIdPath, RegionFilter, assignee
from services.query.sql import (
    ALERT_PREFIX,
    AUDIT_ENTRY,
    SELECT_CASES,
    cases,
    timeline,
)
from services.web import ApiError

router = APIRouter(prefix="/v1/cases", tags=["cases"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such case in your jurisdiction"}}


def case_not_found(case_id: str) -> ApiError:
    # One message for "missing" and "outside your jurisdiction": the answer must not tell them apart.
    return ApiError(404, f"case {case_id!r} not found; check the id (cases outside your jurisdiction are not shown)")


def in_jurisdiction(officer: Principal):
    return officer.jurisdiction.where(cases.c.destination_country, cases.c.origin_region)


def require_case(db: Session, officer: Principal, case_id: str, *, refused_action: str | None = None) -> None:
    """404 unless the case is in the officer's jurisdiction; a refusal is audited as `refused_action`."""
    found = db.execute(select(cases.c.case_id).where(cases.c.case_id == case_id, in_jurisdiction(officer)))
    if found.first() is None:
        if refused_action is not None:
            record_read(db, officer, case_id, refused_action)
        raise case_not_found(case_id)


def record_read(
    db: Db, officer: Principal, case_id: str | None, action: str, case_ids: list[str] | None = None
) -> None:
    """Committed by its own INSERT: the query service's engine is in autocommit (`Clients.autocommit`)."""
    db.execute(
        AUDIT_ENTRY,
        {"officer_id": officer.id, "case_id": case_id, "action": action, "at": datetime.now(UTC), "case_ids": case_ids},
    )


def visible(officer: Principal, case) -> dict:
    """The case's welfare fields as this officer may see them (consent, SPEC section 9)."""
    return mask_case(dict(case), supervisor=officer.is_supervisor, origins=officer.jurisdiction.origins)


def identity_visible(db: Session, officer: Principal, case_id: str) -> bool:
    row = db.execute(select(cases.c.data_sharing, cases.c.origin_region).where(cases.c.case_id == case_id)).first()
    return row is None or sees_identity(
        row.data_sharing, row.origin_region, supervisor=officer.is_supervisor, origins=officer.jurisdiction.origins
    )


CASE_FIELDS = [(CASE_COLUMNS.index(name), name) for name in CasePublic.model_fields]
ALERT_FIELDS = [(CASE_COLUMNS.index(ALERT_PREFIX + name), name) for name in AlertPublic.model_fields]
ALERT_ID = CASE_COLUMNS.index(ALERT_PREFIX + "alert_id")
REFERRALS = CASE_COLUMNS.index("referrals")


@router.get("/{case_id}", response_model=CaseDetail, responses=NOT_FOUND, name="read_case")
def get_case(case_id: CaseIdPath, caller: CallerDep) -> Response:
    # The officer is read in this route's thread: one thread hop per lookup (see services.query.auth),
    # and one pooled connection for its three statements (see services.query.deps.ViewConnection).
    with ViewConnection(caller.clients.engine) as db:
        return read_case(case_id, authenticate(db, caller.token), db)


def read_case(case_id: str, officer: Principal, db: Db) -> Response:
    """The case lookup's work, also run by the console's case page (with its `Session`). On the
    API route's connection over PostgreSQL, its two statements run on the driver's cursor
    (`services.query.lookup`)."""
    # One statement: the case joined to its unresolved alerts, a row per alert (one row of NULL
    # alert columns when there is none).
    rows = case_rows(db, officer.jurisdiction, case_id)
    if not rows:
        audit_read(db, officer.id, case_id, "refused_read_case")
        raise case_not_found(case_id)
    first = rows[0]
    detail = CaseDetail(
        **visible(officer, {name: first[index] for index, name in CASE_FIELDS}),
        alerts=[
            AlertPublic(**{name: row[index] for index, name in ALERT_FIELDS})
            for row in rows
            if row[ALERT_ID] is not None
        ],
        referrals=first[REFERRALS] or [],
    )
    audit_read(db, officer.id, case_id, "read_case")  # last: only an answer that will be sent is audited
    return respond(detail)


@router.get("/{case_id}/timeline", response_model=Timeline, responses=NOT_FOUND)
def read_timeline(case_id: CaseIdPath, officer: CurrentOfficer, db: DbDep) -> Response:
    require_case(db, officer, case_id, refused_action="refused_read_timeline")
    envelopes = (
        db.execute(
            select(timeline.c.envelope)
            .where(timeline.c.case_id == case_id)
            .order_by(timeline.c.occurred_at, timeline.c.recorded_at, timeline.c.event_id)
        )
        .scalars()
        .all()
    )
    if not identity_visible(db, officer, case_id):  # consent withheld: as in the case, so in its timeline
        envelopes = [{**envelope, "payload": mask_payload(envelope["payload"])} for envelope in envelopes]
    answer = Timeline(events=[TimelineEntry.model_validate(envelope) for envelope in envelopes])
    record_read(db, officer, case_id, "read_timeline")
    return respond(answer)


@router.get("", response_model=CasePage)
def list_cases(
    officer: CurrentOfficer,
    db: DbDep,
    stage: Stage | None = None,
    destination_country: CountryCode | None = None,
    origin_region: RegionFilter = None,
    has_open_alerts: bool | None = None,
    min_severity: Annotated[
        Severity | None, Query(description="cases whose worst unresolved alert is at least this severe")
    ] = None,
    assigned_to: AssignedTo = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    """Cases in the officer's jurisdiction, ordered by case_id."""
    c = cases.c
    query = SELECT_CASES.where(in_jurisdiction(officer))
    if stage is not None:
        query = query.where(c.stage == stage.value)
    if destination_country is not None:
        query = query.where(c.destination_country == destination_country)
    if origin_region is not None:
        query = query.where(c.origin_region == origin_region)
    if has_open_alerts is not None:
        query = query.where(c.open_alerts > 0 if has_open_alerts else c.open_alerts == 0)
    if min_severity is not None:
        query = query.where(c.top_severity_rank >= SEVERITY_RANK[min_severity.value])
    if assigned_to is not None:
        query = query.where(c.assigned_officer_id == assignee(assigned_to, officer))
    after = decode_cursor("cases", cursor, [strict(str)])
    if after is not None:
        query = query.where(c.case_id > after[0])
    rows = db.execute(query.order_by(c.case_id).limit(limit + 1)).all()
    items, next_cursor = page(
        [CasePublic.model_validate(visible(officer, r._mapping)) for r in rows],
        limit,
        "cases",
        lambda case: [case.case_id],
    )
    answer = CasePage(items=items, next_cursor=next_cursor)
    record_read(db, officer, None, "list_cases", [case.case_id for case in items])
    return respond(answer)


@router.post(
    "/{case_id}/notes",
    status_code=202,
    response_model=Accepted,
    responses={**NOT_FOUND, 503: {"description": "Kafka did not acknowledge; retry"}},
)
def add_note(case_id: CaseIdPath, body: NoteIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep) -> Response:
    require_case(db, officer, case_id)
    event_id = publish_officer_event(clients, "case.note_added", case_id, {"officer_id": officer.id, "text": body.text})
    return respond(Accepted(event_id=event_id), 202)
