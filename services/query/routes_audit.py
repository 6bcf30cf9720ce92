"""The audit trail of reads of personal data: supervisors only, newest first.

A supervisor sees the reads of cases within their own jurisdiction (a `*` supervisor sees all),
so the trail never reveals which cases exist elsewhere. A page of /v1/cases or /v1/alerts is one
row with the case_ids it returned; such rows may name cases of several jurisdictions, so only a
`*` supervisor sees them. `case_id=` finds the reads of that one case (`read_case`,
`read_timeline` and refused reads); pages are found by `officer_id=` and list their case_ids.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from services.query.auth import CurrentSupervisor
from services.query.deps import DbDep
from services.query.models import AuditPage, AuditPublic, respond
from services.query.paging import DEFAULT_LIMIT, CursorParam, Limit, decode_cursor, page, strict
from services.query.params import CaseIdFilter, OfficerIdFilter
from services.query.routes_cases import in_jurisdiction
from services.query.sql import audit, cases

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses={403: {"description": "the officer is not a supervisor"}})
def read_audit(
    supervisor: CurrentSupervisor,
    db: DbDep,
    case_id: CaseIdFilter = None,
    officer_id: OfficerIdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    a = audit.c
    query = select(a.id, a.officer_id, a.case_id, a.action, a.at, a.case_ids)
    if not supervisor.jurisdiction.everything:
        query = query.where(a.case_id.in_(select(cases.c.case_id).where(in_jurisdiction(supervisor))))
    if case_id is not None:
        query = query.where(a.case_id == case_id)
    if officer_id is not None:
        query = query.where(a.officer_id == officer_id)
    before = decode_cursor("audit", cursor, [strict(int)])
    if before is not None:
        query = query.where(a.id < before[0])
    rows = db.execute(query.order_by(a.id.desc()).limit(limit + 1)).all()
    items, next_cursor = page(rows, limit, "audit", lambda entry: [entry.id])
    return respond(AuditPage(items=[AuditPublic.model_validate(e._mapping) for e in items], next_cursor=next_cursor))
