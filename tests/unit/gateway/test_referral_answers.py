"""SPEC section 10 at the gateway: any agency kind may publish `referral.*`, but only the agency
the referral names may answer it (403 `not_party_to_case` for anyone else)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import AgencyKind
from services.gateway.binding import CaseFacts, Party, refusal
from services.gateway.views import CaseViews
from services.worker.persist import apply_batch
from services.worker.views import LIVE
from tests.factories import RULES, bearer, delivered, make, new_event

CASE = "IN-2026-000123"


@pytest.mark.parametrize("event_type", ["referral.accepted", "referral.declined", "referral.completed"])
@pytest.mark.parametrize(
    "facts,agency,kind,refused",
    [
        (CaseFacts(referrals={"R1": "helpline-1"}), "helpline-1", AgencyKind.helpline, False),
        (CaseFacts(referrals={"R1": "employer-1"}), "employer-1", AgencyKind.employer, False),  # kind rules give way
        (CaseFacts(referrals={"R1": "helpline-1"}), "mission-1", AgencyKind.mission, True),  # an unbound kind too
        (CaseFacts(referrals={"R2": "helpline-1"}), "helpline-1", AgencyKind.helpline, True),  # another referral
        (CaseFacts(), "helpline-1", AgencyKind.helpline, True),  # no referral (yet) in the views
        (None, "helpline-1", AgencyKind.helpline, True),  # no case in the views
    ],
)
def test_only_the_agency_referred_to_may_answer(event_type, facts, agency, kind, refused):
    event = make(event_type, 1)
    reason = refusal(Party(agency, kind), event, facts)
    assert (reason is not None) is refused
    if refused:
        assert "R1" in reason


@pytest.fixture
def referred(sqlite_engine):
    """The case in the views with referral R1 to `helpline-1` (as the worker would write it)."""
    made = make("case.referral_made", 0, referral_id="R1", service="shelter", to_agency_id="helpline-1")
    with sqlite_engine.begin() as conn:
        apply_batch(
            conn, LIVE, [delivered(make("migrant.registered", 0)), delivered(made, 1)], RULES, datetime.now(UTC)
        )
    return sqlite_engine


def test_the_views_say_whom_a_referral_names(referred):
    facts = CaseViews(referred).facts({CASE, "NO-SUCH-CASE"})
    assert set(facts) == {CASE} and facts[CASE].referrals == {"R1": "helpline-1"}


@pytest.mark.parametrize("event_type", ["referral.accepted", "referral.declined", "referral.completed"])
def test_the_referred_agency_answers_and_any_other_gets_403(referred, client, keys, publisher, event_type):
    for kind in ("mission", "employer", "insurer", "recruiting_agent"):  # every kind has the mandate
        response = client.post("/v1/events", json=new_event(event_type), headers=bearer(keys[kind]))
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "not_party_to_case"
    assert publisher.records == []
    accepted = client.post("/v1/events", json=new_event(event_type), headers=bearer(keys["helpline"]))
    assert accepted.status_code == 202, accepted.text
    assert len(publisher.records) == 1


def test_a_batch_refuses_only_the_answers_of_other_agencies(referred, client, keys, publisher):
    items = [new_event("referral.accepted"), new_event("referral.accepted", payload={"referral_id": "R2"})]
    response = client.post("/v1/events/batch", json={"events": items}, headers=bearer(keys["helpline"]))
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["errors"][0]["code"] == "not_party_to_case"
    assert len(publisher.records) == 1
