"""SPEC section 10 through the query API (SQLite, fake publisher): assign, refer, and the
assigned_to / escalated filters. The world is `tests.query_seed`'s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from services.gateway.agencies import add_agency
from services.query.sql import alerts, cases
from tests.query_contract import assert_error, ids


@pytest.mark.parametrize(
    "who,officer_id,status",
    [
        ("sup-all", "off-sa", 202),  # a supervisor assigns anyone whose scope holds the case
        ("sup-sa", "off-kerala", 202),  # SA-0001 is from Kerala: off-kerala sees it too
        ("off-sa", "off-sa", 202),  # an officer assigns themself
        ("off-sa", "off-kerala", 403),  # ... and nobody else
        ("sup-all", "nobody", 422),  # no such officer
        ("sup-all", "gone", 422),  # disabled
    ],
)
def test_who_may_assign_whom(api, who, officer_id, status):
    response = api.post("/v1/cases/SA-0001/assign", who, {"officer_id": officer_id})
    assert response.status_code == status, response.text
    if status == 202:
        assert set(response.json()) == {"event_id"}
        event = api.published(response.json()["event_id"]).event
        assert (event.event_type, event.case_id) == ("case.assigned", "SA-0001")
        assert event.payload.model_dump() == {"officer_id": officer_id, "assigned_by": who}
    else:
        assert_error(response, status, "forbidden" if status == 403 else "invalid")


def test_assigning_out_of_the_assignees_scope_or_the_callers_is_refused(api):
    assert_error(api.post("/v1/cases/AE-0001/assign", "sup-all", {"officer_id": "off-sa"}), 422, "invalid")
    assert_error(api.post("/v1/cases/AE-0001/assign", "off-sa", {"officer_id": "off-sa"}), 404, "not_found")
    assert_error(api.post("/v1/cases/SA-0001/assign", "sup-all", {"officer_id": "off-sa", "x": 1}), 422, "invalid")


@pytest.fixture
def shelter(sqlite_engine, unit_settings):
    add_agency(sqlite_engine, unit_settings.secret_key, "shelter-1", "helpline")
    return "shelter-1"


def test_a_referral_is_published_for_a_case_in_scope(api, shelter):
    body = {"service": "shelter", "to_agency_id": shelter, "note": "needs a safe place tonight"}
    response = api.post("/v1/cases/SA-0001/referrals", "off-sa", body)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"event_id"}
    event = api.published(response.json()["event_id"]).event
    assert (event.event_type, event.case_id) == ("case.referral_made", "SA-0001")
    payload = event.payload.model_dump(mode="json")
    assert payload.pop("referral_id")
    assert payload == {**body, "officer_id": "off-sa"}


@pytest.mark.parametrize(
    "body",
    [
        {"service": "housing", "to_agency_id": "shelter-1", "note": "x"},  # not a SPEC service
        {"service": "legal", "to_agency_id": "nobody", "note": "x"},  # no such agency
        {"service": "legal", "to_agency_id": "shelter-1"},  # the note is required
        {"service": "legal", "to_agency_id": "shelter-1", "note": ""},
    ],
)
def test_an_invalid_referral_is_422(api, shelter, body):
    assert_error(api.post("/v1/cases/SA-0001/referrals", "sup-all", body), 422, "invalid")


def test_a_referral_for_a_case_out_of_scope_is_404(api, shelter):
    body = {"service": "legal", "to_agency_id": shelter, "note": "x"}
    assert_error(api.post("/v1/cases/AE-0001/referrals", "off-sa", body), 404, "not_found")


@pytest.fixture
def assigned(sqlite_engine):
    """SA-0001 and AE-0001 assigned to off-kerala, SA-0002 to off-sa; A-DIST escalated."""
    with sqlite_engine.begin() as conn:
        for case_id, officer in (("SA-0001", "off-kerala"), ("AE-0001", "off-kerala"), ("SA-0002", "off-sa")):
            conn.execute(update(cases).where(cases.c.case_id == case_id).values(assigned_officer_id=officer))
        conn.execute(
            update(alerts).where(alerts.c.alert_id == "A-DIST").values(escalated_at=datetime(2026, 3, 3, tzinfo=UTC))
        )


def test_cases_and_alerts_assigned_to_me_or_to_an_officer(api, assigned):
    assert ids(api.get("/v1/cases", "off-kerala", assigned_to="me")) == ["AE-0001", "SA-0001"]
    assert ids(api.get("/v1/cases", "sup-all", assigned_to="off-sa")) == ["SA-0002"]
    assert ids(api.get("/v1/cases", "sup-all", assigned_to="me")) == []
    assert ids(api.get("/v1/cases", "off-sa", assigned_to="off-kerala")) == ["SA-0001"]  # scope still applies
    assert ids(api.get("/v1/alerts", "off-kerala", assigned_to="me"), "alert_id") == [
        "A-DIST",
        "A-PASS",
        "A-UNDER",
        "A-FEE",
    ]
    assert ids(api.get("/v1/alerts", "sup-all", assigned_to="off-sa"), "alert_id") == []


def test_escalated_alerts_only_or_none_of_them(api, assigned):
    escalated = api.get("/v1/alerts", "sup-all", escalated="true").json()["items"]
    assert [(a["alert_id"], a["escalated_at"]) for a in escalated] == [("A-DIST", "2026-03-03T00:00:00Z")]
    assert "A-DIST" not in ids(api.get("/v1/alerts", "sup-all", escalated="false"), "alert_id")
    case = api.get("/v1/cases/SA-0001", "sup-all").json()
    assert case["assigned_officer_id"] == "off-kerala" and case["referrals"] == []
    assert case["alerts"][0]["escalated_at"] == "2026-03-03T00:00:00Z"
