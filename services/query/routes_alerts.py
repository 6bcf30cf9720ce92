"""The protection inbox and the two officer actions on an alert.

The inbox reads the alerts table only: destination_country and origin_region are copied onto each
alert, so the jurisdiction and the filters apply without a join, and the order (severity, then
raised_at oldest first, then alert_id) is an index walk: `ix_alerts_inbox_all` for `*`,
`ix_alerts_dest` / `ix_alerts_origin` for a single destination or region, `ix_alerts_inbox` for a
single status.
Acknowledge and resolve publish an event; the alert changes when the worker folds it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from events.types import AlertCode, AlertStatus, CountryCode, Severity
from services.query.actions import Once, publish_officer_event
from services.query.auth import CurrentOfficer, Principal
from services.query.deps import ClientsDep, DbDep
from services.query.models import Accepted, AcknowledgeIn, AlertPage, AlertPublic, ResolveIn, respond
from services.query.paging import DEFAULT_LIMIT, CursorParam, Limit, decode_cursor, page, strict, timestamp
from services.query.params import AlertIdPath, AssignedTo, CaseIdFilter, assignee
from services.query.routes_cases import record_read
from services.query.sql import INBOX_ORDER, SELECT_ALERTS, alerts, cases
from services.web import ApiError

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such alert in your jurisdiction"},
    409: {"description": "the alert is already resolved, or another request acknowledged/resolved it first"},
    503: {"description": "Kafka did not acknowledge; retry"},
}


def in_jurisdiction(officer: Principal):
    return officer.jurisdiction.where(alerts.c.destination_country, alerts.c.origin_region)


@router.get("", response_model=AlertPage)
def list_alerts(
    officer: CurrentOfficer,
    db: DbDep,
    status: Annotated[list[AlertStatus] | None, Query(description="repeat for several; omit for every status")] = None,
    severity: Severity | None = None,
    code: AlertCode | None = None,
    case_id: CaseIdFilter = None,
    destination_country: CountryCode | None = None,
    assigned_to: AssignedTo = None,
    escalated: Annotated[bool | None, Query(description="true: only escalated alerts; false: only the others")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    """Alerts in the officer's jurisdiction: critical first, then oldest first."""
    a = alerts.c
    query = SELECT_ALERTS.add_columns(a.severity_rank).where(in_jurisdiction(officer))
    if status:
        query = query.where(a.status.in_(sorted({s.value for s in status})))
    if severity is not None:
        query = query.where(a.severity == severity.value)
    if code is not None:
        query = query.where(a.code == code.value)
    if case_id is not None:
        query = query.where(a.case_id == case_id)
    if destination_country is not None:
        query = query.where(a.destination_country == destination_country)
    if assigned_to is not None:  # SPEC section 10: alerts of the cases assigned to them
        owned = select(cases.c.case_id).where(cases.c.assigned_officer_id == assignee(assigned_to, officer))
        query = query.where(a.case_id.in_(owned))
    if escalated is not None:
        query = query.where(a.escalated_at.is_not(None) if escalated else a.escalated_at.is_(None))
    after = decode_cursor("alerts", cursor, [strict(int), timestamp, strict(str)])
    if after is not None:
        query = query.where(tuple_(*INBOX_ORDER) > tuple_(*after))
    rows = db.execute(query.order_by(*INBOX_ORDER).limit(limit + 1)).all()
    items, next_cursor = page(rows, limit, "alerts", lambda r: [r.severity_rank, r.raised_at, r.alert_id])
    answer = AlertPage(items=[AlertPublic.model_validate(r._mapping) for r in items], next_cursor=next_cursor)
    # One audit row per page, naming each case it showed once (SPEC section 7).
    record_read(db, officer, None, "list_alerts", list(dict.fromkeys(alert.case_id for alert in answer.items)))
    return respond(answer)


def unresolved_alert(db: Session, officer: Principal, alert_id: str):
    alert = db.execute(
        select(alerts.c.case_id, alerts.c.status).where(alerts.c.alert_id == alert_id, in_jurisdiction(officer))
    ).first()
    if alert is None:
        raise ApiError(
            404, f"alert {alert_id!r} not found; check the id (alerts outside your jurisdiction are not shown)"
        )
    if alert.status == "resolved":
        raise ApiError(409, f"alert {alert_id!r} is already resolved; there is nothing left to do")
    return alert


@router.post("/{alert_id}/acknowledge", status_code=202, response_model=Accepted, responses=ACTION_ERRORS)
def acknowledge(
    alert_id: AlertIdPath,
    officer: CurrentOfficer,
    db: DbDep,
    clients: ClientsDep,
    body: Annotated[AcknowledgeIn | None, Body()] = None,
) -> Response:
    alert = unresolved_alert(db, officer, alert_id)
    payload = {"alert_id": alert_id, "officer_id": officer.id, "note": body.note if body else None}
    once = Once(
        alert_id,
        "acknowledge",
        f"alert {alert_id!r} is being acknowledged by another request, or is resolved; reload it to see its state",
        ruled_out_by=("resolve",),
        lasting=False,
    )
    event_id = publish_officer_event(clients, "case.alert_acknowledged", alert.case_id, payload, once=once)
    return respond(Accepted(event_id=event_id), 202)


@router.post("/{alert_id}/resolve", status_code=202, response_model=Accepted, responses=ACTION_ERRORS)
def resolve(
    alert_id: AlertIdPath, body: ResolveIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep
) -> Response:
    alert = unresolved_alert(db, officer, alert_id)
    payload = {"alert_id": alert_id, "officer_id": officer.id, "note": body.note}
    once = Once(
        alert_id,
        "resolve",
        f"alert {alert_id!r} is already resolved (or being resolved by another request); there is nothing left to do",
    )
    event_id = publish_officer_event(clients, "case.alert_resolved", alert.case_id, payload, once=once)
    return respond(Accepted(event_id=event_id), 202)
