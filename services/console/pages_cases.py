"""Cases: the scoped list with search by case_id, one case's page, and adding a note.

The case page runs `routes_cases.read_case` and `read_timeline`: each read is audited exactly as
the API audits it, and a case out of scope raises the API's 404, which the console shows as the
same "not found" page as a missing case. Referrals (SPEC 10) are shown when the case data has them.
"""

from __future__ import annotations

import inspect
import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from events.types import CASE_ID_PATTERN, COUNTRY_CODES, Stage
from services.console import later_routes, sentences
from services.console.web import PREFIX, ConsoleDb, Officer, call, check_csrf, clients_of, render, with_query
from services.query import routes_cases
from services.query.models import NoteIn
from services.web import ApiError

router = APIRouter()
PAGE_SIZE = 25
_CASE_ID = re.compile(CASE_ID_PATTERN)
RECORDED = "once it is recorded; reload in a few seconds."
NOTICES = {
    "note": f"Note added. It appears in the notes and timeline {RECORDED}",
    "assigned": f"Case assigned. The case shows it {RECORDED}",
    "referred": f"Referral made. The case shows it {RECORDED}",
    "acknowledged": f"Alert acknowledged. The case shows the change {RECORDED}",
    "resolved": f"Alert resolved. The case shows the change {RECORDED}",
}
Text = Annotated[str, Form(max_length=4000)]
SUPPORTS_ASSIGNED = "assigned_to" in inspect.signature(routes_cases.list_cases).parameters  # SPEC 10


def _case_id(case_id: str) -> str:
    if not _CASE_ID.match(case_id):  # a malformed id cannot exist: the same page as a missing case
        raise routes_cases.case_not_found(case_id[:64])
    return case_id


@router.get("/cases")
def cases_list(
    request: Request,
    session: Officer,
    db: ConsoleDb,
    case_id: Annotated[str | None, Query(max_length=200)] = None,
    stage: str | None = None,
    destination: Annotated[str | None, Query(max_length=2)] = None,
    alerts: bool = False,
    mine: bool = False,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    problems: list[str] = []
    if case_id and case_id.strip():
        wanted = case_id.strip()
        if _CASE_ID.match(wanted):
            return RedirectResponse(f"{PREFIX}/cases/{wanted}", status_code=303)
        problems.append(
            f"{wanted[:64]!r} is not a case id: 4 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. IN-2026-000123)."
        )
    if stage and stage not in {s.value for s in Stage}:
        problems.append(f"Stage {stage!r} is not one of the choices; pick one from the list.")
        stage = None
    destination = (destination or "").upper() or None
    if destination and destination not in COUNTRY_CODES:
        problems.append(f"Destination {destination!r} is not an ISO country code (two letters, e.g. SA).")
        destination = None
    arguments = dict(
        officer=session.officer,
        db=db,
        stage=Stage(stage) if stage else None,
        destination_country=destination,
        origin_region=None,
        has_open_alerts=True if alerts else None,
        min_severity=None,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    if SUPPORTS_ASSIGNED:
        arguments["assigned_to"] = "me" if mine else None
    page = call(routes_cases.list_cases, **arguments)
    filters = {"stage": stage, "destination": destination, "alerts": alerts, "mine": mine}
    return render(
        request,
        "cases.html",
        cases=page["items"],
        filters=filters,
        problems=problems,
        session=session,
        supports_assigned=SUPPORTS_ASSIGNED,
        next_page=with_query(f"{PREFIX}/cases", **filters, cursor=page["next_cursor"]) if page["next_cursor"] else None,
        first_page=with_query(f"{PREFIX}/cases", **filters) if cursor else None,
    )


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, session: Officer, db: ConsoleDb, notice: str | None = None) -> Response:
    case_id = _case_id(case_id)
    case = call(routes_cases.read_case, case_id=case_id, officer=session.officer, db=db)
    events = call(routes_cases.read_timeline, case_id=case_id, officer=session.officer, db=db)["events"]
    timeline = [
        {
            "day": sentences.day(e["occurred_at"]),
            "text": sentences.describe(e["event_type"], e["payload"]),
            "line": sentences.line(e),
            "event_type": e["event_type"],
        }
        for e in events
    ]
    notes = [
        {
            "day": sentences.day(e["occurred_at"]),
            "officer_id": e["payload"].get("officer_id"),
            "text": e["payload"].get("text"),
        }
        for e in events
        if e["event_type"] == "case.note_added"
    ]
    parent = request.app.state.parent
    return render(
        request,
        "case.html",
        case=case,
        timeline=timeline,
        notes=notes,
        referrals=case.get("referrals"),
        here=f"{PREFIX}/cases/{case_id}",
        notice=NOTICES.get(notice or ""),
        session=session,
        can_assign=later_routes.endpoint(parent, *later_routes.ASSIGN) is not None,
        can_refer=later_routes.endpoint(parent, *later_routes.REFER) is not None,
        referral_services=later_routes.REFERRAL_SERVICES,
    )


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request, case_id: str, session: Officer, db: ConsoleDb, csrf_token: Text = "", text: Text = ""
) -> Response:
    check_csrf(session, csrf_token)
    case_id = _case_id(case_id)
    if not text.strip():
        raise ApiError(422, "The note is empty; write something and send the form again.")
    routes_cases.add_note(
        case_id=case_id, body=NoteIn(text=text.strip()), officer=session.officer, db=db, clients=clients_of(request)
    )
    return RedirectResponse(f"{PREFIX}/cases/{case_id}?notice=note", status_code=303)


def _case_work(request: Request, route: tuple[str, str], case_id: str, session, db, body: dict) -> None:
    """Run one of section 10's API routes (assign, refer) for this case; 404 while the API lacks it."""
    function = later_routes.endpoint(request.app.state.parent, *route)
    if function is None:
        raise ApiError(404, "this server does not offer that yet")
    later_routes.invoke(
        function,
        body,
        case_id=case_id,
        officer=session.officer,
        db=db,
        clients=clients_of(request),
        request=request,
        idempotency_key=None,
    )


@router.post("/cases/{case_id}/assign")
def assign(
    request: Request, case_id: str, session: Officer, db: ConsoleDb, csrf_token: Text = "", officer_id: Text = ""
) -> Response:
    check_csrf(session, csrf_token)
    case_id = _case_id(case_id)
    _case_work(
        request, later_routes.ASSIGN, case_id, session, db, {"officer_id": officer_id.strip() or session.officer.id}
    )
    return RedirectResponse(f"{PREFIX}/cases/{case_id}?notice=assigned", status_code=303)


@router.post("/cases/{case_id}/referrals")
def refer(
    request: Request,
    case_id: str,
    session: Officer,
    db: ConsoleDb,
    csrf_token: Text = "",
    service: Text = "",
    to_agency_id: Text = "",
    note: Text = "",
) -> Response:
    check_csrf(session, csrf_token)
    case_id = _case_id(case_id)
    _case_work(
        request,
        later_routes.REFER,
        case_id,
        session,
        db,
        {"service": service, "to_agency_id": to_agency_id.strip(), "note": note.strip()},
    )
    return RedirectResponse(f"{PREFIX}/cases/{case_id}?notice=referred", status_code=303)
