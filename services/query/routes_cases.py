"""Cases: one case with its unresolved alerts, its timeline, the scoped list, and notes.

Reads of one case or its timeline write an audit row in the same transaction as the read: the
answer is sent only after the audit row is committed, so no read goes unrecorded. A case outside
the officer's jurisdiction answers exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from events.types import CountryCode, Severity, Stage
from services.query.actions import publish_officer_event
from services.query.auth import CurrentOfficer, Principal
from services.query.deps import ClientsDep, SessionDep
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
from services.query.params import CaseIdPath, RegionFilter
from services.query.sql import INBOX_ORDER, SELECT_ALERTS, SELECT_CASES, alerts, audit, cases, timeline
from services.web import ApiError

router = APIRouter(prefix="/v1/cases", tags=["cases"])
SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1}  # cases.top_severity_rank (higher = worse)
NOT_FOUND = {404: {"description": "no such case in your jurisdiction"}}


def case_not_found(case_id: str) -> ApiError:
    # One message for "missing" and "outside your jurisdiction": the answer must not tell them apart.
    return ApiError(404, f"case {case_id!r} not found; check the id (cases outside your jurisdiction are not shown)")


def in_jurisdiction(officer: Principal):
    return officer.jurisdiction.where(cases.c.destination_country, cases.c.origin_region)


def require_case(session: Session, officer: Principal, case_id: str) -> None:
    found = session.execute(select(cases.c.case_id).where(cases.c.case_id == case_id, in_jurisdiction(officer)))
    if found.first() is None:
        raise case_not_found(case_id)


def record_read(session: Session, officer: Principal, case_id: str, action: str) -> None:
    session.execute(insert(audit).values(officer_id=officer.id, case_id=case_id, action=action, at=datetime.now(UTC)))
    session.commit()


@router.get("/{case_id}", response_model=CaseDetail, responses=NOT_FOUND)
def read_case(case_id: CaseIdPath, officer: CurrentOfficer, session: SessionDep) -> Response:
    row = session.execute(SELECT_CASES.where(cases.c.case_id == case_id, in_jurisdiction(officer))).first()
    if row is None:
        raise case_not_found(case_id)
    unresolved = session.execute(
        SELECT_ALERTS.where(alerts.c.case_id == case_id, alerts.c.status != "resolved").order_by(*INBOX_ORDER)
    ).all()
    detail = CaseDetail(**row._mapping, alerts=[AlertPublic.model_validate(a._mapping) for a in unresolved])
    record_read(session, officer, case_id, "read_case")  # last: only an answer that will be sent is audited
    return respond(detail)


@router.get("/{case_id}/timeline", response_model=Timeline, responses=NOT_FOUND)
def read_timeline(case_id: CaseIdPath, officer: CurrentOfficer, session: SessionDep) -> Response:
    require_case(session, officer, case_id)
    envelopes = session.execute(
        select(timeline.c.envelope)
        .where(timeline.c.case_id == case_id)
        .order_by(timeline.c.occurred_at, timeline.c.recorded_at, timeline.c.event_id)
    ).scalars().all()
    answer = Timeline(events=[TimelineEntry.model_validate(envelope) for envelope in envelopes])
    record_read(session, officer, case_id, "read_timeline")
    return respond(answer)


@router.get("", response_model=CasePage)
def list_cases(
    officer: CurrentOfficer,
    session: SessionDep,
    stage: Stage | None = None,
    destination_country: CountryCode | None = None,
    origin_region: RegionFilter = None,
    has_open_alerts: bool | None = None,
    min_severity: Annotated[Severity | None, Query(description="cases whose worst unresolved alert is at least this severe")] = None,
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
    after = decode_cursor("cases", cursor, [strict(str)])
    if after is not None:
        query = query.where(c.case_id > after[0])
    rows = session.execute(query.order_by(c.case_id).limit(limit + 1)).all()
    items, next_cursor = page([CasePublic.model_validate(r._mapping) for r in rows], limit, "cases",
                              lambda case: [case.case_id])
    return respond(CasePage(items=items, next_cursor=next_cursor))


@router.post("/{case_id}/notes", status_code=202, response_model=Accepted,
             responses={**NOT_FOUND, 503: {"description": "Kafka did not acknowledge; retry"}})
def add_note(case_id: CaseIdPath, body: NoteIn, officer: CurrentOfficer, session: SessionDep, clients: ClientsDep) -> Response:
    require_case(session, officer, case_id)
    session.rollback()  # end the read transaction before waiting on Kafka
    event_id = publish_officer_event(clients, "case.note_added", case_id, {"officer_id": officer.id, "text": body.text})
    return respond(Accepted(event_id=event_id), 202)
