"""SPEC section 10 at the gateway: any agency kind may publish `referral.*`, but only the agency
the referral names may answer it (403 `not_party_to_case` for anyone else)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.gateway.referrals import refusal, referred_agency
from services.worker.persist import apply_batch
from services.worker.views import LIVE
from tests.factories import RULES, make
from tests.unit.gateway.support import bearer, new_event
from tests.unit.worker.support import delivered

CASE = "IN-2026-000123"


@pytest.mark.parametrize("referred_to,agency,refused", [
    ("helpline-1", "helpline-1", False),
    ("helpline-1", "mission-1", True),
    (None, "helpline-1", True),  # no such referral (yet) in the views
])
def test_only_the_agency_referred_to_may_answer(referred_to, agency, refused):
    outcome = refusal("e-1", CASE, "R1", agency, referred_to)
    assert (outcome is not None) is refused
    if refused:
        assert (outcome.status, outcome.code, outcome.event_id) == (403, "not_party_to_case", "e-1")
        assert outcome.errors[0]["path"] == "payload.referral_id"


@pytest.fixture
def referred(sqlite_engine):
    """The case in the views with referral R1 to `helpline-1` (as the worker would write it)."""
    made = make("case.referral_made", 0, referral_id="R1", service="shelter", to_agency_id="helpline-1")
    with sqlite_engine.begin() as conn:
        apply_batch(conn, LIVE, [delivered(make("migrant.registered", 0)), delivered(made, 1)], RULES,
                    datetime.now(UTC))
    return sqlite_engine


def test_the_views_say_whom_a_referral_names(referred):
    assert referred_agency(referred, CASE, "R1") == "helpline-1"
    assert referred_agency(referred, CASE, "R2") is None
    assert referred_agency(referred, "NO-SUCH-CASE", "R1") is None


@pytest.mark.parametrize("event_type", ["referral.accepted", "referral.declined", "referral.completed"])
def test_the_referred_agency_answers_and_any_other_gets_403(referred, client, keys, publisher, event_type):
    for kind in ("mission", "employer", "insurer"):  # every kind has the mandate; none is party
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
