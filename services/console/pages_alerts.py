"""The alert inbox with its filters, and acknowledge / resolve with a note.

Reads run `routes_alerts.list_alerts`, actions `routes_alerts.acknowledge` / `resolve`: the same
scoping, 404/409 and publish path as the API. An action answers with a redirect back to the page
it came from; the alert changes there once the worker has folded the officer's event (usually
within a second or two), which the notice on the page says.
"""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from events.types import COUNTRY_CODES, AlertCode, AlertStatus, Severity
from services.console.web import PREFIX, ConsoleDb, Officer, call, check_csrf, clients_of, render, safe_next, with_query
from services.query import routes_alerts
from services.query.models import AcknowledgeIn, ResolveIn
from services.query.params import AlertIdPath
from services.web import ApiError

router = APIRouter()
PAGE_SIZE = 25
STATUS_CHOICES = {  # what the status filter offers -> the API's `status` values
    "unresolved": ["open", "acknowledged"],
    "open": ["open"],
    "acknowledged": ["acknowledged"],
    "resolved": ["resolved"],
    "any": [],
}
NOTICES = {
    "acknowledged": "Alert acknowledged. The inbox shows the change once it is recorded; reload in a few seconds.",
    "resolved": "Alert resolved. The inbox shows the change once it is recorded; reload in a few seconds.",
}
# Section 10's `assigned_to` filter: offered once the API's inbox route takes it.
SUPPORTS_ASSIGNED = "assigned_to" in inspect.signature(routes_alerts.list_alerts).parameters
Text = Annotated[str, Form(max_length=4000)]


def _choice(value: str | None, allowed, problems: list[str], what: str) -> str | None:
    if not value:
        return None
    if value in allowed:
        return value
    problems.append(f"{what} {value!r} is not one of the choices; pick one from the list.")
    return None


@router.get("/inbox")
def inbox(
    request: Request,
    session: Officer,
    db: ConsoleDb,
    severity: str | None = None,
    code: str | None = None,
    status: str = "unresolved",
    destination: Annotated[str | None, Query(max_length=2)] = None,
    mine: bool = False,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    notice: str | None = None,
) -> Response:
    problems: list[str] = []
    severity = _choice(severity, {s.value for s in Severity}, problems, "Severity")
    code = _choice(code, {c.value for c in AlertCode}, problems, "Alert code")
    status = _choice(status, STATUS_CHOICES, problems, "Status") or "unresolved"
    destination = _choice((destination or "").upper() or None, COUNTRY_CODES, problems, "Destination")
    arguments = dict(
        officer=session.officer,
        db=db,
        status=[AlertStatus(s) for s in STATUS_CHOICES[status]] or None,
        severity=Severity(severity) if severity else None,
        code=AlertCode(code) if code else None,
        case_id=None,
        destination_country=destination,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    if SUPPORTS_ASSIGNED:
        arguments["assigned_to"] = "me" if mine else None
    page = call(routes_alerts.list_alerts, **arguments)
    filters = {"severity": severity, "code": code, "status": status, "destination": destination, "mine": mine}
    here = with_query(f"{PREFIX}/inbox", **filters, cursor=cursor)
    return render(
        request,
        "inbox.html",
        alerts=page["items"],
        filters=filters,
        problems=problems,
        here=here,
        next_page=with_query(f"{PREFIX}/inbox", **filters, cursor=page["next_cursor"]) if page["next_cursor"] else None,
        first_page=with_query(f"{PREFIX}/inbox", **filters) if cursor else None,
        notice=NOTICES.get(notice or ""),
        severities=[s.value for s in Severity],
        codes=[c.value for c in AlertCode],
        statuses=list(STATUS_CHOICES),
        supports_assigned=SUPPORTS_ASSIGNED,
        session=session,
    )


def _back(next_page: str, notice: str) -> Response:
    target = safe_next(next_page, f"{PREFIX}/inbox")
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}notice={notice}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request,
    alert_id: AlertIdPath,
    session: Officer,
    db: ConsoleDb,
    csrf_token: Text = "",
    note: Text = "",
    next: Text = "",
) -> Response:
    check_csrf(session, csrf_token)
    body = AcknowledgeIn(note=note.strip() or None)
    routes_alerts.acknowledge(alert_id=alert_id, officer=session.officer, db=db, clients=clients_of(request), body=body)
    return _back(next, "acknowledged")


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    request: Request,
    alert_id: AlertIdPath,
    session: Officer,
    db: ConsoleDb,
    csrf_token: Text = "",
    note: Text = "",
    next: Text = "",
) -> Response:
    check_csrf(session, csrf_token)
    if not note.strip():
        raise ApiError(422, "Resolving an alert needs a note saying what was done; write one and send the form again.")
    body = ResolveIn(note=note.strip())
    routes_alerts.resolve(alert_id=alert_id, officer=session.officer, db=db, clients=clients_of(request), body=body)
    return _back(next, "resolved")
