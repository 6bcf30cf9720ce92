"""Assign, refer (SPEC 10) and scorecards (SPEC 12) in the console, through the API's own routes.

Assign and refer run the query app's real `routes_casework`. The scorecard routes are not in the
query app yet: a stand-in with the SPEC's path and parameters takes their place, and without it
the console leaves scorecards out.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Query
from fastapi.testclient import TestClient

import events
from services.gateway.agencies import add_agency
from services.query.app import create_app
from services.query.auth import CurrentOfficer
from services.query.deps import DbDep
from tests.query_seed import FakePublisher, seed
from tests.unit.console.conftest import Console


def published(console: Console) -> list[tuple]:
    decoded = [events.decode(record.value) for record in console.publisher.records]
    return [(event.event_type, event.case_id, event.payload.model_dump(mode="json")) for event in decoded]


def test_assign_to_yourself_goes_through_the_api_route(console):
    console.sign_in("off-sa")
    page = console.get("/console/cases/SA-0001").text
    assert "Case work" in page and 'name="officer_id"' in page
    assigned = console.post("/console/cases/SA-0001/assign", {"officer_id": ""}, console.csrf("/console/cases/SA-0001"))
    assert assigned.headers["location"] == "/console/cases/SA-0001?notice=assigned"
    [(event_type, case_id, payload)] = published(console)
    assert (event_type, case_id, payload["officer_id"], payload["assigned_by"]) == (
        "case.assigned", "SA-0001", "off-sa", "off-sa")


def test_assign_refusals_are_the_apis(console):
    console.sign_in("off-sa")
    assert console.post("/console/cases/AE-0001/assign", {"officer_id": ""}).status_code == 404  # out of scope
    other = console.post("/console/cases/SA-0001/assign", {"officer_id": "off-kerala"})
    assert other.status_code == 403 and "only to themself" in other.text
    assert console.publisher.records == []


def test_refer_goes_through_the_api_route(console, sqlite_engine, unit_settings):
    add_agency(sqlite_engine, unit_settings.secret_key, "helpline-1", "helpline")
    console.sign_in("off-sa")
    referred = console.post("/console/cases/SA-0001/referrals",
                            {"service": "shelter", "to_agency_id": "helpline-1", "note": "needs a bed tonight"})
    assert referred.headers["location"] == "/console/cases/SA-0001?notice=referred"
    [(event_type, _, payload)] = published(console)
    assert (event_type, payload["service"], payload["to_agency_id"]) == ("case.referral_made", "shelter", "helpline-1")
    unknown = console.post("/console/cases/SA-0001/referrals",
                           {"service": "spa", "to_agency_id": "helpline-1", "note": "x"})
    assert unknown.status_code == 422 and "service" in unknown.text


def scorecard_routes(calls: list[tuple]) -> APIRouter:
    router = APIRouter()

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
def with_scorecards(sqlite_engine, unit_settings, calls):
    tokens = seed(sqlite_engine, unit_settings.secret_key)
    app = create_app(unit_settings, engine=sqlite_engine, publisher=FakePublisher())
    app.include_router(scorecard_routes(calls))
    with TestClient(app) as client:
        yield Console(client, tokens, FakePublisher())


def test_without_their_route_scorecards_are_left_out(console):
    console.sign_in("off-sa")
    assert "/console/scorecards/" not in console.get("/console/inbox").text
    assert console.get("/console/scorecards/employers").status_code == 404


def test_scorecards_appear_with_their_route(with_scorecards, calls):
    with_scorecards.sign_in("off-sa")
    assert '/console/scorecards/employers"' in with_scorecards.get("/console/inbox").text
    page = with_scorecards.get("/console/scorecards/employers", destination="sa", min_placements=5)
    assert page.status_code == 200 and "EMP-ALNOOR" in page.text and "abuse: 8.3" in page.text
    assert calls == [("employers", "off-sa", "SA", 5)]
    assert with_scorecards.get("/console/scorecards/agents").status_code == 404


def test_assigned_to_me_filters_the_inbox_and_the_cases(console, sqlite_engine):
    from sqlalchemy import update

    from services.query.sql import cases

    with sqlite_engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.case_id == "SA-0001").values(assigned_officer_id="off-sa"))
    console.sign_in("off-sa")
    mine = console.get("/console/cases", mine="true").text
    assert "SA-0001" in mine and "SA-0002" not in mine
    inbox = console.get("/console/inbox", mine="true").text
    assert 'id="f-mine"' in inbox and "Assigned to" in console.get("/console/cases/SA-0001").text
