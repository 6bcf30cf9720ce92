"""Assign, refer (SPEC 10) and scorecards (SPEC 12) in the console, through the API's own routes.

Assign and refer run the query app's real `routes_casework`, the scorecards its `routes_scorecards`.
"""

from __future__ import annotations

from services.gateway.agencies import add_agency
from tests.factories import make
from tests.unit.console.conftest import Console
from tests.views import store


def published(console: Console) -> list[tuple]:
    decoded = console.published()
    return [(event.event_type, event.case_id, event.payload.model_dump(mode="json")) for event in decoded]


def test_assign_to_yourself_goes_through_the_api_route(console):
    console.sign_in("off-sa")
    page = console.get("/console/cases/SA-0001").text
    assert "Case work" in page and 'name="officer_id"' in page
    assigned = console.post("/console/cases/SA-0001/assign", {"officer_id": ""}, console.csrf("/console/cases/SA-0001"))
    assert assigned.headers["location"] == "/console/cases/SA-0001?notice=assigned"
    [(event_type, case_id, payload)] = published(console)
    assert (event_type, case_id, payload["officer_id"], payload["assigned_by"]) == (
        "case.assigned",
        "SA-0001",
        "off-sa",
        "off-sa",
    )


def test_assign_refusals_are_the_apis(console):
    console.sign_in("off-sa")
    assert console.post("/console/cases/AE-0001/assign", {"officer_id": ""}).status_code == 404  # out of scope
    other = console.post("/console/cases/SA-0001/assign", {"officer_id": "off-kerala"})
    assert other.status_code == 403 and "only to themself" in other.text
    assert console.publisher.records == []


def test_refer_goes_through_the_api_route(console, sqlite_engine, unit_settings):
    add_agency(sqlite_engine, unit_settings.secret_key, "helpline-1", "helpline")
    console.sign_in("off-sa")
    referred = console.post(
        "/console/cases/SA-0001/referrals",
        {"service": "shelter", "to_agency_id": "helpline-1", "note": "needs a bed tonight"},
    )
    assert referred.headers["location"] == "/console/cases/SA-0001?notice=referred"
    [(event_type, _, payload)] = published(console)
    assert (event_type, payload["service"], payload["to_agency_id"]) == ("case.referral_made", "shelter", "helpline-1")
    unknown = console.post(
        "/console/cases/SA-0001/referrals", {"service": "spa", "to_agency_id": "helpline-1", "note": "x"}
    )
    assert unknown.status_code == 422 and "service" in unknown.text


def test_scorecards_go_through_the_api_route(console, sqlite_engine):
    stream = [
        make("recruitment.job_offer_made", 1, case_id="SC-0001", employer_id="EMP-ALNOOR"),
        make("deployment.departed", 2, case_id="SC-0001"),
        make("deployment.incident_reported", 3, case_id="SC-0001", category="physical_abuse"),
    ]
    store(sqlite_engine, stream)
    console.sign_in("off-sa")
    assert '/console/scorecards/employers"' in console.get("/console/inbox").text
    page = console.get("/console/scorecards/employers", destination="sa", min_placements=1)
    assert page.status_code == 200 and "EMP-ALNOOR" in page.text and "100.0" in page.text
    assert "EMP-ALNOOR" not in console.get("/console/scorecards/employers", destination="ae").text
    assert console.get("/console/scorecards/agents").status_code == 200


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
