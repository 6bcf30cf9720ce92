"""SPEC section 12 end to end on the real parts: an employer watchlisted through the gateway, then a
new offer from that employer raises WATCHLISTED_PARTY in the inbox, the scorecards show it, and a
replay from offset 0 gives the same scorecards and alerts."""

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
from tests.live import WorkerProcess, snapshot
from tests.polling import wait_until
from tests.servers import serving

pytestmark = pytest.mark.integration


def envelope(event_type: str, case_id: str, **payload) -> dict:
    return new_event(event_type, payload, case_id=case_id)


def offer(case_id: str, employer: str, agent: str) -> dict:
    return envelope(
        "recruitment.job_offer_made",
        case_id,
        offer_id=f"O-{case_id}",
        employer_id=employer,
        employer_name="Gulf Homes",
        destination_country="SA",
        occupation_code="9111",
        monthly_wage={"amount": "1500.00", "currency": "SAR"},
        contract_months=24,
        recruiting_agent_id=agent,
    )


def test_a_watchlisted_employer_s_new_offer_raises_the_alert_and_replay_agrees(worker_settings, views_engine, tmp_path):
    secret = worker_settings.secret_key
    keys = {
        kind: add_agency(views_engine, secret, f"{kind}-1", kind).key
        for kind in ("emigration_authority", "recruiting_agent", "employer")
    }
    token = add_officer(views_engine, secret, "sup-1", "supervisor", ["*"]).token
    run = uuid.uuid4().hex[:6]
    bad, good, agent = f"EMP-BAD-{run}", f"EMP-OK-{run}", "recruiting_agent-1"
    watched, clean = f"IN-WATCH-{run}", f"IN-CLEAN-{run}"
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    try:
        with serving(gateway_app(worker_settings)) as gateway, serving(query_app(worker_settings)) as query:

            def send(kind: str, event: dict) -> str:
                answer = httpx.post(
                    f"{gateway}/v1/events", headers={"Authorization": f"Bearer {keys[kind]}"}, json=event, timeout=30
                )
                assert answer.status_code == 202, answer.text
                return answer.json()["event_id"]

            send(
                "emigration_authority",
                envelope(
                    "watchlist.entry_added",
                    bad,
                    party_kind="employer",
                    party_id=bad,
                    reason="passports withheld at three sites",
                ),
            )
            trigger = send("recruiting_agent", offer(watched, bad, agent))
            send("recruiting_agent", offer(clean, good, agent))
            send("emigration_authority", envelope("deployment.departed", clean, destination_country="SA"))
            officer = {"Authorization": f"Bearer {token}"}

            def inbox() -> list[dict]:
                page = httpx.get(
                    f"{query}/v1/alerts",
                    params={"code": "WATCHLISTED_PARTY", "status": "open"},
                    headers=officer,
                    timeout=10,
                )
                return page.json()["items"] if page.status_code == 200 else []

            [alert] = wait_until(inbox, timeout_s=120, what="the WATCHLISTED_PARTY alert in the inbox")

            def employers() -> dict[str, dict]:
                items = httpx.get(f"{query}/v1/stats/employers", headers=officer, timeout=10).json()["items"]
                cards = {card["employer_id"]: card for card in items}
                return cards if cards.get(good, {}).get("placements") == 1 and bad in cards else {}

            cards = wait_until(employers, timeout_s=120, what="both employers' scorecards, with the departure")
            agents = httpx.get(f"{query}/v1/stats/agents", headers=officer, timeout=10).json()["items"]
    finally:
        worker.stop()

    assert (alert["case_id"], alert["severity"], alert["trigger_event_id"]) == (watched, "high", trigger)
    assert cards[bad]["watchlisted"] is True and cards[bad]["placements"] == 0
    assert cards[good]["watchlisted"] is False and cards[good]["placements"] == 1
    assert [(a["recruiting_agent_id"], a["placements"]) for a in agents] == [(agent, 1)]

    live = snapshot(views_engine)
    replay(worker_settings, views_engine, progress=False)
    rebuilt = snapshot(views_engine)
    assert rebuilt["alerts"] == live["alerts"] and rebuilt["party_cases"] == live["party_cases"]
    assert rebuilt == live
