"""SPEC section 10 end to end on the real parts (Kafka, PostgreSQL, `passage worker`, the gateway
and the query API over HTTP): an officer takes a DISTRESS case and refers it to a shelter agency;
the shelter accepts and completes through the gateway while another agency's answer gets 403;
the unanswered critical alert is escalated by the sweep; a replay rebuilds the same views."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.gateway.agencies import add_agency
from services.gateway.app import create_app as gateway_app
from services.query.app import create_app as query_app
from services.query.officers import add_officer
from services.worker.replay import replay
from tests.factories import new_event
from tests.live import WorkerProcess, snapshot, timeline_count
from tests.polling import wait_until
from tests.servers import serving

pytestmark = pytest.mark.integration
ACK_HOURS = "critical=0.001"  # 3.6 s: the DISTRESS alert nobody acknowledges escalates during the test


def answer(referral_id: str, case_id: str, event_type: str, **payload) -> dict:
    return new_event(event_type, {"referral_id": referral_id, **payload}, case_id=case_id)


def test_referral_answered_by_the_shelter_only_escalation_and_replay(worker_settings, views_engine, tmp_path):
    settings = worker_settings.model_copy(update={"ack_hours": ACK_HOURS})
    key = {
        agency: add_agency(views_engine, settings.secret_key, agency, kind).key
        for agency, kind in (("helpline-1", "helpline"), ("shelter-1", "helpline"), ("mission-1", "mission"))
    }
    token = add_officer(views_engine, settings.secret_key, "off-1", "officer", ["*"]).token
    officer = {"Authorization": f"Bearer {token}"}
    case_id = f"IN-REFER-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(settings, tmp_path / "worker.log", sweep_interval_s=1, ack_hours=ACK_HOURS).start()
    try:
        with serving(gateway_app(settings)) as gateway, serving(query_app(settings)) as query:

            def publish(agency: str, envelope: dict) -> httpx.Response:
                return httpx.post(
                    f"{gateway}/v1/events",
                    json=envelope,
                    timeout=30,
                    headers={"Authorization": f"Bearer {key[agency]}"},
                )

            def case() -> dict:
                response = httpx.get(f"{query}/v1/cases/{case_id}", headers=officer, timeout=10)
                return response.json() if response.status_code == 200 else {}

            distress = publish(
                "helpline-1",
                new_event(
                    "deployment.distress_reported",
                    {"channel": "helpline", "description": "locked in, phone taken"},
                    case_id=case_id,
                ),
            )
            assert distress.status_code == 202, distress.text
            wait_until(lambda: case().get("open_alerts"), timeout_s=120, what="the DISTRESS case in the views")

            assigned = httpx.post(
                f"{query}/v1/cases/{case_id}/assign", json={"officer_id": "off-1"}, headers=officer, timeout=30
            )
            assert assigned.status_code == 202, assigned.text
            referred = httpx.post(
                f"{query}/v1/cases/{case_id}/referrals",
                headers=officer,
                timeout=30,
                json={"service": "shelter", "to_agency_id": "shelter-1", "note": "needs a bed tonight"},
            )
            assert referred.status_code == 202, referred.text
            made = wait_until(lambda: case().get("referrals"), timeout_s=120, what="the referral on the case")
            referral_id = made[0]["referral_id"]
            assert case()["assigned_officer_id"] == "off-1"

            other = publish("mission-1", answer(referral_id, case_id, "referral.accepted"))
            assert other.status_code == 403 and other.json()["error"]["code"] == "not_party_to_case", other.text
            accepted = publish("shelter-1", answer(referral_id, case_id, "referral.accepted"))
            assert accepted.status_code == 202, accepted.text
            wait_until(
                lambda: case()["referrals"][0]["status"] == "accepted", timeout_s=120, what="the acceptance folded"
            )
            completed = publish(
                "shelter-1", answer(referral_id, case_id, "referral.completed", outcome="sheltered, flight home booked")
            )
            assert completed.status_code == 202, completed.text
            [referral] = wait_until(
                lambda: case()["referrals"][0]["status"] == "completed" and case()["referrals"],
                timeout_s=120,
                what="the completion folded",
            )

            def escalated() -> list[dict]:
                page = httpx.get(
                    f"{query}/v1/alerts", params={"escalated": "true", "assigned_to": "me"}, headers=officer, timeout=10
                )
                return page.json()["items"] if page.status_code == 200 else []

            [alert] = wait_until(escalated, timeout_s=120, what="the unacknowledged DISTRESS alert escalated")
            mine = httpx.get(f"{query}/v1/cases", params={"assigned_to": "me"}, headers=officer, timeout=10).json()
    finally:
        assert worker.stop() == 0, worker.log()

    assert [(step["status"], step["by"]) for step in referral["history"]] == [
        ("made", "off-1"),
        ("accepted", "shelter-1"),
        ("completed", "shelter-1"),
    ]
    assert (referral["service"], referral["to_agency_id"], referral["outcome"]) == (
        "shelter",
        "shelter-1",
        "sheltered, flight home booked",
    )
    assert referral["made_at"] <= referral["answered_at"]
    assert (alert["code"], alert["status"], alert["case_id"]) == ("DISTRESS", "open", case_id)
    assert alert["escalated_at"] is not None
    assert [c["case_id"] for c in mine["items"]] == [case_id]

    live = snapshot(views_engine)
    rebuilt = replay(settings, views_engine, progress=False)
    assert rebuilt.events == timeline_count(views_engine) and rebuilt.skipped == 0
    again = snapshot(views_engine)
    for table in ("alerts", "cases"):  # escalations and alerts; assignments and referrals
        assert again[table] == live[table], table
    assert again == live
