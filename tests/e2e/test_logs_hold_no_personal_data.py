"""SPEC section 7 (logs): the worker and both services, with PASSAGE_LOG_FORMAT=json at DEBUG,
taken through failures (a poison record on the log, refused and malformed requests, a read out of
scope), never write a personal field value of the test's migrant to any log line."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

import events
from services.gateway.agencies import add_agency
from services.kafka.producer import Publisher, Record
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate
from services.storage.tables import TimelineEvent
from tests.factories import new_event
from tests.faults.harness import Gateway, Service, Worker
from tests.isolation import own_settings
from tests.polling import wait_until
from tests.servers import free_port, http_ok

pytestmark = pytest.mark.e2e

PERSONAL = {
    "given_name": "Zerubabel",
    "family_name": "Quaxtonville",
    "date_of_birth": "1987-06-05",
    "passport_number": "ZX9988776",
    "phone": "+447123459876",
}
FREE_TEXT = ["wage-secret-description-31", "confidential-note-text-77"]


def envelope(event_type: str, case_id: str, payload: dict) -> dict:
    return new_event(event_type, payload, case_id=case_id)


def registration(case_id: str, **changes) -> dict:
    return envelope(
        "migrant.registered",
        case_id,
        {
            **PERSONAL,
            "sex": "female",
            "nationality": "IN",
            "origin_region": "Kerala",
            "consent": {"data_sharing": True},
            **changes,
        },
    )


def test_no_personal_value_reaches_any_log_line(settings, pg_admin_url, tmp_path):
    with own_settings(settings, pg_admin_url, "logs", var_dir=tmp_path / "var", sweep_interval_s=3600.0) as own:
        engine = make_engine(own)
        migrate(engine)
        skilling = add_agency(engine, own.secret_key, "logs-skilling", "skilling_body").key
        helpline = add_agency(engine, own.secret_key, "logs-helpline", "helpline").key
        supervisor = add_officer(engine, own.secret_key, "logs-sup", "supervisor", ["*"]).token
        elsewhere = add_officer(engine, own.secret_key, "logs-qa", "officer", ["dest:QA"]).token
        query_port = free_port()
        services = [
            Worker(own, tmp_path),
            Gateway(own, tmp_path),
            Service("query", ["query", "--port", str(query_port)], own, tmp_path),
        ]
        for service in services:
            service.env["PASSAGE_LOG_LEVEL"] = "DEBUG"
            service.start()
        worker, gateway, _query = services
        query_url = f"http://127.0.0.1:{query_port}"
        publisher = Publisher(own)
        try:
            gateway.wait_ready()
            wait_until(lambda: http_ok(f"{query_url}/readyz"), 60, "the query service ready")
            case_id = f"LOG-{uuid.uuid4().hex[:8]}"
            agency = {"Authorization": f"Bearer {skilling}"}
            assert httpx.post(f"{gateway.url}/v1/events", json=registration(case_id), headers=agency).status_code == 202
            grievance = envelope(
                "deployment.grievance_filed",
                case_id,
                {"grievance_id": "G1", "category": "wage_theft", "description": FREE_TEXT[0]},
            )
            assert (
                httpx.post(
                    f"{gateway.url}/v1/events", json=grievance, headers={"Authorization": f"Bearer {helpline}"}
                ).status_code
                == 202
            )
            # Refused and malformed requests carrying the personal values.
            bad = registration(case_id, given_name=PERSONAL["given_name"] + "\x00", family_name=" ")
            assert httpx.post(f"{gateway.url}/v1/events", json=bad, headers=agency).status_code == 422
            deep = json.dumps(registration(case_id)).encode()[:-1] + b', "x": ' + b"[" * 40 + b"]" * 40 + b"}"
            assert httpx.post(f"{gateway.url}/v1/events", content=deep, headers=agency).status_code == 400
            assert httpx.post(f"{gateway.url}/v1/events/%1B[31mred%00", json={}).status_code == 404
            # A poison record straight onto the log (the gateway would refuse it), then a good one after it.
            poison = events.stamp(
                events.validate(registration(case_id)),
                recorded_at=datetime.now(UTC),
                source=events.Source(agency_id="logs-skilling", agency_kind="skilling_body"),
            )
            raw = json.loads(events.encode(poison))
            raw["payload"]["family_name"] = PERSONAL["family_name"] + "\x00"
            publisher.publish([Record(own.journey_topic, key=case_id, value=json.dumps(raw).encode())])
            officer = {"Authorization": f"Bearer {supervisor}"}
            wait_until(
                lambda: "migrant.registered" in _types(engine, case_id),
                60,
                "the case in the views",
                explain=worker.tail,
            )
            note = httpx.post(f"{query_url}/v1/cases/{case_id}/notes", json={"text": FREE_TEXT[1]}, headers=officer)
            assert note.status_code == 202, note.text
            wait_until(
                lambda: "case.note_added" in _types(engine, case_id),
                60,
                "the note applied after the poison record",
                explain=worker.tail,
            )
            assert httpx.get(f"{query_url}/v1/cases/{case_id}", headers=officer).status_code == 200
            assert httpx.get(f"{query_url}/v1/cases/{case_id}/timeline", headers=officer).status_code == 200
            assert (
                httpx.get(
                    f"{query_url}/v1/cases/{case_id}", headers={"Authorization": f"Bearer {elsewhere}"}
                ).status_code
                == 404
            )
            assert (
                httpx.post(
                    f"{query_url}/v1/cases/{case_id}/notes", json={"text": "bad\x1b[2J" + FREE_TEXT[1]}, headers=officer
                ).status_code
                == 422
            )
            assert worker.alive, worker.tail()
        finally:
            publisher.close()
            for service in reversed(services):
                service.stop(grace_s=15)
            engine.dispose()
        logs = "\n".join(service.log_path.read_text(errors="replace") for service in services)
        assert "dead-lettered a record" in logs  # the failure happened, and was logged
        for value in [*PERSONAL.values(), *FREE_TEXT]:
            assert value not in logs, f"{value!r} is in a log line"
        assert "\x1b" not in logs and "\x00" not in logs


def _types(engine, case_id: str) -> list[str]:
    with engine.connect() as connection:
        return (
            connection.execute(select(TimelineEvent.event_type).where(TimelineEvent.case_id == case_id)).scalars().all()
        )
