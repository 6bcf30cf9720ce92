"""Case work (SPEC section 10): assign a case, refer it to a service provider.

Both publish an officer event through `actions.publish_officer_event` (the one path every officer
action takes) and answer 202 `{"event_id"}`; the views change when the worker folds the event.
Decisions where SPEC is silent:
- the assignee must be a registered, enabled officer whose jurisdiction holds the case (a case
  assigned to someone who cannot open it helps nobody): 422 otherwise;
- an officer may assign only themself, a supervisor anyone (403 otherwise);
- the agency referred to must be registered and enabled (422 otherwise): it answers through the
  gateway with its own key. The referral_id is a new UUID per request; the case's `referrals`
  show it once the worker folded the event (the answer stays SPEC's `{"event_id"}`).
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.types import Id, ReferralService, Text
from services.query.actions import publish_officer_event
from services.query.auth import CurrentOfficer, Principal
from services.query.deps import ClientsDep, DbDep
from services.query.models import Accepted, Body, respond
from services.query.params import CaseIdPath
from services.query.routes_cases import NOT_FOUND, require_case
from services.query.scope import Jurisdiction
from services.query.sql import cases
from services.storage.tables import Agency, Officer, table_of
from services.web import ApiError

router = APIRouter(prefix="/v1/cases", tags=["case work"])
ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    403: {"description": "not allowed to make this assignment"},
    422: {"description": "invalid body, or an assignee / agency that cannot take the case"},
    503: {"description": "Kafka did not acknowledge; retry"},
}
_officers, _agencies = table_of(Officer), table_of(Agency)


class AssignIn(Body):
    officer_id: Id


class ReferralIn(Body):
    service: ReferralService
    to_agency_id: Id
    note: Text


class Assignment(Enum):
    """Why an assignment may not be made (the HTTP edge maps each to a status)."""

    allowed = "allowed"
    not_self = "not_self"
    unknown_officer = "unknown_officer"
    out_of_their_scope = "out_of_their_scope"


def assignment(
    assigner: Principal, officer_id: str, assignee_scopes: list[str] | None, case_where: tuple[str | None, str | None]
) -> Assignment:
    """Pure: may `assigner` give the case (at destination, origin `case_where`) to `officer_id`,
    whose scopes are `assignee_scopes` (None: no such enabled officer)?"""
    if not assigner.is_supervisor and officer_id != assigner.id:
        return Assignment.not_self
    if assignee_scopes is None:
        return Assignment.unknown_officer
    destination, origin = case_where
    jurisdiction = Jurisdiction.of(assignee_scopes)
    sees = jurisdiction.everything or destination in jurisdiction.destinations or origin in jurisdiction.origins
    return Assignment.allowed if sees else Assignment.out_of_their_scope


@router.post("/{case_id}/assign", status_code=202, response_model=Accepted, responses=ERRORS)
def assign(case_id: CaseIdPath, body: AssignIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep) -> Response:
    where = _case_where(db, officer, case_id)
    decision = assignment(officer, body.officer_id, _scopes_of(db, body.officer_id), where)
    if decision is Assignment.not_self:
        raise ApiError(403, "an officer may assign a case only to themself; ask a supervisor to assign someone else")
    if decision is Assignment.unknown_officer:
        raise ApiError(
            422,
            f"no enabled officer {body.officer_id!r}; check the id (`passage officer add` registers officers)",
            [{"path": "officer_id", "message": "unknown or disabled officer"}],
        )
    if decision is Assignment.out_of_their_scope:
        raise ApiError(
            422,
            f"case {case_id!r} is outside the jurisdiction of officer {body.officer_id!r}, who could "
            "not open it; assign an officer whose scope holds the case",
            [{"path": "officer_id", "message": "the case is outside this officer's scopes"}],
        )
    payload = {"officer_id": body.officer_id, "assigned_by": officer.id}
    event_id = publish_officer_event(clients, "case.assigned", case_id, payload)
    return respond(Accepted(event_id=event_id), 202)


@router.post("/{case_id}/referrals", status_code=202, response_model=Accepted, responses=ERRORS)
def refer(case_id: CaseIdPath, body: ReferralIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep) -> Response:
    require_case(db, officer, case_id)
    agency = db.execute(select(_agencies.c.disabled).where(_agencies.c.id == body.to_agency_id)).first()
    if agency is None or agency.disabled:
        raise ApiError(
            422,
            f"no enabled agency {body.to_agency_id!r} to refer to; check the id "
            "(`passage agency add` registers agencies)",
            [{"path": "to_agency_id", "message": "unknown or disabled agency"}],
        )
    referral_id = str(uuid.uuid4())
    payload = {
        "referral_id": referral_id,
        "service": body.service.value,
        "to_agency_id": body.to_agency_id,
        "officer_id": officer.id,
        "note": body.note,
    }
    event_id = publish_officer_event(clients, "case.referral_made", case_id, payload)
    return respond(Accepted(event_id=event_id), 202)


def _case_where(db: Session, officer: Principal, case_id: str) -> tuple[str | None, str | None]:
    require_case(db, officer, case_id)
    row = db.execute(select(cases.c.destination_country, cases.c.origin_region).where(cases.c.case_id == case_id)).one()
    return row.destination_country, row.origin_region


def _scopes_of(db: Session, officer_id: str) -> list[str] | None:
    row = db.execute(select(_officers.c.scopes, _officers.c.disabled).where(_officers.c.id == officer_id)).first()
    return None if row is None or row.disabled else list(row.scopes)
