"""Assign, refer and scorecards (SPEC 10 and 12) in the console: used through the API's own routes
once the query app has them, left out while it does not. Stand-in routes here take the place of
the ones section 10 and 12 add, with the same paths, bodies and dependencies."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Header, Query, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from services.query.app import create_app
from services.query.auth import CurrentOfficer
from services.query.deps import ClientsDep, DbDep
from services.query.models import Accepted, respond
from services.query.params import CaseIdPath
from services.query.routes_cases import require_case
from tests.query_seed import FakePublisher, seed
from tests.unit.console.conftest import Console


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer_id: str


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str
    to_agency_id: str
    note: str


def later_routes(calls: list[tuple]) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/cases/{case_id}/assign", status_code=202)
    def assign(case_id: CaseIdPath, body: AssignIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep,
               idempotency_key: Annotated[str | None, Header()] = None) -> Response:
        require_case(db, officer, case_id)
        calls.append(("assign", case_id, officer.id, body.officer_id))
        return respond(Accepted(event_id="e-assign"), 202)

    @router.post("/v1/cases/{case_id}/referrals", status_code=202)
    def refer(case_id: CaseIdPath, body: ReferralIn, officer: CurrentOfficer, db: DbDep, clients: ClientsDep) -> Response:
        require_case(db, officer, case_id)
        calls.append(("refer", case_id, officer.id, body.service, body.to_agency_id, body.note))
        return respond(Accepted(event_id="e-refer"), 202)

    @router.get("/v1/stats/employers")
    def employers(officer: CurrentOfficer, db: DbDep, destination_country: str | None = None,
                  min_placements: Annotated[int | None, Query(ge=0)] = None) -> dict:
        calls.append(("employers", officer.id, destination_country, min_placements))
        return {"items": [{"employer_id": "EMP-ALNOOR", "placements": 12, "alerts_per_100": {"abuse": 8.3},
                           "watchlisted": True}]}

    return router


@pytest.fixture
def calls() -> list[tuple]:
    return []


@pytest.fixture
def later(sqlite_engine, unit_settings, calls):
    tokens = seed(sqlite_engine, unit_settings.secret_key)
    app = create_app(unit_settings, engine=sqlite_engine, publisher=FakePublisher())
    app.include_router(later_routes(calls))
    with TestClient(app) as client:
        yield Console(client, tokens, FakePublisher())


def test_without_the_routes_the_case_page_offers_no_assign_or_refer(console):
    console.sign_in("off-sa")
    page = console.get("/console/cases/SA-0001").text
    assert "Case work" not in page and "scorecards" not in page.lower()
    assert console.post("/console/cases/SA-0001/assign", {"officer_id": ""}).status_code == 404
    assert console.get("/console/scorecards/employers").status_code == 404


def test_assign_and_refer_go_through_the_api_routes(later, calls):
    later.sign_in("off-sa")
    page = later.get("/console/cases/SA-0001").text
    assert "Case work" in page and 'name="to_agency_id"' in page
    assigned = later.post("/console/cases/SA-0001/assign", {"officer_id": ""}, later.csrf("/console/cases/SA-0001"))
    assert assigned.headers["location"] == "/console/cases/SA-0001?notice=assigned"
    referred = later.post("/console/cases/SA-0001/referrals",
                          {"service": "shelter", "to_agency_id": "helpline-1", "note": "needs a bed tonight"})
    assert referred.status_code == 303
    assert later.post("/console/cases/AE-0001/assign", {"officer_id": ""}).status_code == 404  # out of scope
    assert calls == [("assign", "SA-0001", "off-sa", "off-sa"),
                     ("refer", "SA-0001", "off-sa", "shelter", "helpline-1", "needs a bed tonight")]


def test_scorecards_appear_with_their_route(later, calls):
    later.sign_in("off-sa")
    assert '/console/scorecards/employers"' in later.get("/console/inbox").text
    page = later.get("/console/scorecards/employers", destination="sa", min_placements=5)
    assert page.status_code == 200 and "EMP-ALNOOR" in page.text and "abuse: 8.3" in page.text
    assert calls == [("employers", "off-sa", "SA", 5)]
    assert later.get("/console/scorecards/agents").status_code == 404
