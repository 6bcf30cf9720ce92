"""The protection view's promise, end to end on the real parts: a distress report published through
the gateway becomes an open critical DISTRESS alert in the officer's inbox within seconds."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.gateway.agencies import add_agency
from services.gateway.app import create_app as gateway_app
from services.query.app import create_app as query_app
from services.query.officers import add_officer
from tests.factories import new_event
from tests.live import WorkerProcess
from tests.polling import wait_until
from tests.servers import serving

pytestmark = pytest.mark.integration


def test_distress_through_the_gateway_shows_as_an_open_critical_alert(worker_settings, views_engine, tmp_path):
    helpline = add_agency(views_engine, worker_settings.secret_key, "helpline-1", "helpline").key
    token = add_officer(views_engine, worker_settings.secret_key, "sup-1", "supervisor", ["*"]).token
    case_id = f"IN-DISTRESS-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    try:
        with serving(gateway_app(worker_settings)) as gateway, serving(query_app(worker_settings)) as query:
            answer = httpx.post(
                f"{gateway}/v1/events",
                headers={"Authorization": f"Bearer {helpline}"},
                json=new_event(
                    "deployment.distress_reported",
                    {"channel": "helpline", "description": "locked in, phone taken"},
                    case_id=case_id,
                ),
                timeout=30,
            )
            assert answer.status_code == 202, answer.text
            officer = {"Authorization": f"Bearer {token}"}

            def inbox() -> list[dict]:
                page = httpx.get(
                    f"{query}/v1/alerts", params={"case_id": case_id, "status": "open"}, headers=officer, timeout=10
                )
                return page.json()["items"] if page.status_code == 200 else []

            [alert] = wait_until(inbox, timeout_s=120, what="the DISTRESS alert in the inbox")
            case = httpx.get(f"{query}/v1/cases/{case_id}", headers=officer, timeout=10).json()
    finally:
        worker.stop()

    assert (alert["code"], alert["severity"], alert["status"]) == ("DISTRESS", "critical", "open")
    assert alert["trigger_event_id"] == answer.json()["event_id"]
    assert case["wellbeing"] == "distress"
    assert case["top_severity"] == "critical" and case["open_alerts"] == 1
    assert [a["alert_id"] for a in case["alerts"]] == [alert["alert_id"]]
