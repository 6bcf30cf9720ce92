"""Personal data routes (SPEC section 9), supervisors only: erasure requests and subject access.

`POST /v1/cases/{case_id}/erasure` publishes `case.erasure_requested`; the worker does the erasing
(crypto-shredding, see services/privacy/erasure.py), so the answer is 202 like every officer
action. `GET /v1/cases/{case_id}/export` is everything Passage holds on the case, as one JSON
document: `case` (the welfare view, unmasked), `timeline` (every event, decrypted: the worker
stores them opened), `alerts` (every status), `referrals` (when case work keeps them) and `audit`
(who read the case, oldest first). The export itself is audited (action `export`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import or_, select, text

from events.types import Text
from services.query.actions import publish_officer_event
from services.query.auth import CurrentOfficer, Principal
from services.query.deps import ClientsDep, DbDep
from services.query.models import Accepted, AlertPublic, AuditPublic, Body, CasePublic, TimelineEntry, respond
from services.query.params import CaseIdPath
from services.query.routes_cases import record_read, require_case
from services.query.sql import SELECT_ALERTS, SELECT_CASES, alerts, audit, cases, timeline
from services.web import ApiError

router = APIRouter(prefix="/v1/cases", tags=["personal data"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "the officer is not a supervisor"},
    404: {"description": "no such case in your jurisdiction"},
}


class ErasureIn(Body):
    reason: Text


class CaseExport(BaseModel):
    case: CasePublic
    timeline: list[TimelineEntry]
    alerts: list[AlertPublic]
    referrals: list[dict[str, Any]]
    audit: list[AuditPublic]


def require_supervisor(officer: Principal, what: str) -> None:
    if not officer.is_supervisor:
        raise ApiError(403, f"only supervisors may {what}; ask a supervisor")


@router.post(
    "/{case_id}/erasure",
    status_code=202,
    response_model=Accepted,
    responses={**RESPONSES, 503: {"description": "Kafka did not acknowledge; retry"}},
)
def request_erasure(
    case_id: CaseIdPath, body: ErasureIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep
) -> Response:
    """Erase the case's personal data (crypto-shredding); its non-personal facts stay."""
    require_supervisor(officer, "request an erasure")
    require_case(db, officer, case_id)
    event_id = publish_officer_event(
        clients, "case.erasure_requested", case_id, {"officer_id": officer.id, "reason": body.reason}
    )
    return respond(Accepted(event_id=event_id), 202)


@router.get("/{case_id}/export", response_model=CaseExport, responses=RESPONSES)
def export_case(case_id: CaseIdPath, officer: CurrentOfficer, db: DbDep) -> Response:
    """Subject access: everything Passage holds on the case."""
    require_supervisor(officer, "export a case")
    require_case(db, officer, case_id, refused_action="refused_export")
    case = db.execute(SELECT_CASES.where(cases.c.case_id == case_id)).one()
    envelopes = db.execute(
        select(timeline.c.envelope)
        .where(timeline.c.case_id == case_id)
        .order_by(timeline.c.occurred_at, timeline.c.recorded_at, timeline.c.event_id)
    ).scalars()
    alert_rows = db.execute(
        SELECT_ALERTS.where(alerts.c.case_id == case_id).order_by(alerts.c.raised_at, alerts.c.alert_id)
    )
    audit_rows = db.execute(_read_by(db, case_id))
    answer = CaseExport(
        case=CasePublic.model_validate(case._mapping),
        timeline=[TimelineEntry.model_validate(envelope) for envelope in envelopes],
        alerts=[AlertPublic.model_validate(row._mapping) for row in alert_rows],
        referrals=_referrals(db, case_id),
        audit=[AuditPublic.model_validate(row._mapping) for row in audit_rows],
    )
    record_read(db, officer, case_id, "export")
    return respond(answer)


def _read_by(db, case_id: str):
    """The audit rows naming the case: its own reads, and the list pages that returned it."""
    a = audit.c
    if db.get_bind().dialect.name == "postgresql":
        in_page = text("audit.case_ids IS NOT NULL AND CAST(audit.case_ids AS jsonb) @> CAST(:one AS jsonb)")
    else:
        in_page = text(
            "audit.case_ids IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(audit.case_ids) "
            "WHERE json_each.value = :case_id_text)"
        )
    return (
        select(a.id, a.officer_id, a.case_id, a.action, a.at, a.case_ids)
        .where(or_(a.case_id == case_id, in_page))
        .order_by(a.id)
        .params(one=json.dumps([case_id]), case_id_text=case_id)
    )


def _referrals(db, case_id: str) -> list[dict[str, Any]]:
    """The case's referrals with their history (SPEC section 10), as the case read shows them."""
    if "referrals" not in cases.c:
        return []
    return db.execute(select(cases.c.referrals).where(cases.c.case_id == case_id)).scalar() or []
