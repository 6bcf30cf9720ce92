"""POST /v1/events: every answer of SPEC section 7, and what reaches the publisher."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from sqlalchemy import create_engine
from sqlmodel import Session

import events
from services.gateway.admission import MAX_EVENT_BYTES
from services.gateway.agencies import add_agency, set_agency_disabled
from services.gateway.app import create_app
from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from services.storage.tables import Agency
from tests.factories import bearer, new_event


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_an_accepted_event_is_stamped_and_keyed_by_case(client, helpline, publisher, unit_settings, sqlite_engine):
    event = new_event()
    before = datetime.now(UTC)
    response = client.post("/v1/events", json=event, headers=helpline)
    after = datetime.now(UTC)

    assert response.status_code == 202
    assert response.json() == {"event_id": event["event_id"], "status": "accepted"}
    [record] = publisher.records
    assert record.topic == unit_settings.journey_topic == "unit.journey.v1"
    assert record.key == "IN-2026-000123"
    assert dict(record.headers) == {
        "event_type": b"deployment.welfare_check_completed",
        "schema_version": b"1",
        "event_id": event["event_id"].encode(),
    }
    stored = read_record(sqlite_engine, Keyring.from_settings(unit_settings), record.key, record.value)
    assert str(stored.event_id) == event["event_id"]
    assert before <= stored.recorded_at <= after and stored.recorded_at.utcoffset() == timedelta(0)
    assert stored.source == events.Source(agency_id="helpline-1", agency_kind="helpline")
    assert stored.payload.wellbeing.value == "ok"


@pytest.mark.parametrize(
    "field, value",
    [
        ("recorded_at", "2026-01-01T00:00:00Z"),
        ("source", {"agency_id": "someone-else", "agency_kind": "mission"}),
    ],
)
def test_the_gateway_fields_cannot_be_set_by_the_publisher(client, helpline, publisher, field, value):
    response = client.post("/v1/events", json=new_event(**{field: value}), headers=helpline)
    assert response.status_code == 422
    assert [d["path"] for d in _error(response)["details"]] == [field]
    assert publisher.records == []


@pytest.mark.parametrize("body", [b"", b"{", b'{"event_id": NaN}', b"\xff\xfe{}", b'{"a": 1} trailing', b"null null"])
def test_malformed_json_is_400(client, helpline, publisher, body):
    response = client.post("/v1/events", content=body, headers={**helpline, "Content-Type": "application/json"})
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "malformed_request"
    assert "JSON" in error["message"] or "UTF-8" in error["message"]
    assert publisher.records == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("pak_not-a-key"),
        {"Authorization": "Basic aGVscGxpbmU6c2VjcmV0"},
        {"Authorization": "Bearer"},
    ],
)
def test_no_or_bad_key_is_401(client, publisher, headers):
    response = client.post("/v1/events", json=new_event(), headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert publisher.records == []


def test_a_disabled_agency_is_401(client, keys, sqlite_engine, publisher):
    with Session(sqlite_engine) as session:
        agency = session.get(Agency, "helpline-1")
        agency.disabled = True
        session.add(agency)
        session.commit()
    response = client.post("/v1/events", json=new_event(), headers=bearer(keys["helpline"]))
    assert response.status_code == 401
    assert publisher.records == []


def test_a_key_that_published_before_is_refused_at_once_once_disabled_or_rotated(
    client, keys, sqlite_engine, unit_settings, publisher
):
    """The gateway remembers keys it has seen only to skip a round trip before the body; every
    request still reads the registry, so revocation holds from the next request on."""
    helpline = bearer(keys["helpline"])
    assert client.post("/v1/events", json=new_event(), headers=helpline).status_code == 202
    set_agency_disabled(sqlite_engine, "helpline-1", True)
    with structlog.testing.capture_logs() as logs:
        refused = client.post("/v1/events", json=new_event(), headers=helpline)
    assert refused.status_code == 401 and _error(refused)["code"] == "unauthorized"
    [line] = [entry for entry in logs if entry["event"] == "request"]
    assert "agency_id" not in line  # a refused key names no agency
    assert client.post("/v1/events", content=b"{not json", headers=helpline).status_code == 401
    assert client.post("/v1/events/batch", json={"events": [new_event()]}, headers=helpline).status_code == 401

    mission = bearer(keys["mission"])
    assert client.post("/v1/events", json=new_event(), headers=mission).status_code == 202
    rotated = add_agency(sqlite_engine, unit_settings.secret_key, "mission-1", "mission").key
    assert client.post("/v1/events", json=new_event(), headers=mission).status_code == 401
    assert client.post("/v1/events", json=new_event(), headers=bearer(rotated)).status_code == 202
    assert len(publisher.records) == 3


def test_a_revoked_key_is_401_not_413_for_an_oversized_chunked_body(client, keys, sqlite_engine, publisher):
    helpline = bearer(keys["helpline"])
    assert client.post("/v1/events", json=new_event(), headers=helpline).status_code == 202
    set_agency_disabled(sqlite_engine, "helpline-1", True)

    def chunks():
        for _ in range(5):
            yield b"x" * (64 * 1024)

    assert client.post("/v1/events", content=chunks(), headers=helpline).status_code == 401


def test_the_registry_down_after_a_key_was_seen_is_503_naming_the_registry(client, helpline, sqlite_engine, publisher):
    assert client.post("/v1/events", json=new_event(), headers=helpline).status_code == 202
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE agencies RENAME TO agencies_away")
    try:
        response = client.post("/v1/events", json=new_event(), headers=helpline)
    finally:
        with sqlite_engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE agencies_away RENAME TO agencies")
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert "agency registry" in _error(response)["message"]
    assert len(publisher.records) == 1


# SPEC section 4, spot checks written out by hand (the full table lives in events.catalogue).
@pytest.mark.parametrize(
    "kind, event_type, allowed",
    [
        ("skilling_body", "skilling.certified", True),
        ("skilling_body", "recruitment.job_offer_made", False),
        ("recruiting_agent", "migrant.registered", True),
        ("recruiting_agent", "recruitment.visa_issued", False),
        ("emigration_authority", "deployment.departed", True),
        ("emigration_authority", "deployment.arrived", False),
        ("insurer", "recruitment.insurance_issued", True),
        ("employer", "deployment.employment_started", True),
        ("employer", "deployment.grievance_filed", False),
        ("mission", "deployment.incident_reported", True),
        ("mission", "migrant.registered", False),
        ("helpline", "return.skills_recognized", True),
        ("helpline", "return.returned", False),
    ],
)
def test_the_mandate_of_each_kind(client, keys, publisher, kind, event_type, allowed):
    event = new_event(event_type)
    if kind == "employer":  # bound to the case by naming itself (SPEC 4a; tests/unit/gateway/test_binding.py)
        event["payload"]["employer_id"] = "employer-1"
    response = client.post("/v1/events", json=event, headers=bearer(keys[kind]))
    assert response.status_code == (202 if allowed else 403), response.text
    assert len(publisher.records) == (1 if allowed else 0)
    if not allowed:
        error = _error(response)
        assert error["code"] == "forbidden" and kind in error["message"]


@pytest.mark.parametrize("event_type", sorted(t for t in events.CATALOGUE if t.startswith("case.")))
def test_case_events_are_never_accepted_from_an_agency(client, keys, publisher, event_type):
    for kind, key in keys.items():
        response = client.post("/v1/events", json=new_event(event_type), headers=bearer(key))
        assert response.status_code == 403, (kind, response.text)
    assert publisher.records == []


def test_outside_the_mandate_is_403_even_when_the_event_is_also_invalid(client, keys):
    event = new_event("skilling.assessed", case_id="!", payload={"level": 99})
    assert client.post("/v1/events", json=event, headers=bearer(keys["employer"])).status_code == 403


def test_every_field_problem_is_listed_in_one_422(client, helpline, publisher):
    event = new_event(
        case_id="x",
        occurred_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        payload={"channel": "pigeon", "wellbeing": "ok", "mood": "fine"},
        extra=1,
    )
    del event["event_id"]
    response = client.post("/v1/events", json=event, headers=helpline)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid"
    paths = {detail["path"] for detail in error["details"]}
    assert paths == {"event_id", "case_id", "occurred_at", "extra", "payload.channel", "payload.mood"}
    assert all(detail["message"] for detail in error["details"])
    assert publisher.records == []


@pytest.mark.parametrize("body", [[], "an event", 3])
def test_json_that_is_not_an_object_is_422(client, helpline, body):
    response = client.post("/v1/events", json=body, headers=helpline)
    assert response.status_code == 422


def test_an_unknown_event_type_is_422(client, helpline):
    response = client.post("/v1/events", json=new_event() | {"event_type": "deployment.teleported"}, headers=helpline)
    assert response.status_code == 422
    assert [d["path"] for d in _error(response)["details"]] == ["event_type"]


def _padded(event: dict, size: int) -> bytes:
    """The event's JSON padded with whitespace to exactly `size` bytes (still one valid event)."""
    raw = json.dumps(event).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_a_body_of_exactly_256_kib_is_read(client, helpline, publisher):
    response = client.post("/v1/events", content=_padded(new_event(), MAX_EVENT_BYTES), headers=helpline)
    assert response.status_code == 202
    assert len(publisher.records) == 1


def test_a_declared_length_over_256_kib_is_413_before_authentication(client, publisher):
    response = client.post("/v1/events", content=_padded(new_event(), MAX_EVENT_BYTES + 1))
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert publisher.records == []


def test_an_undeclared_body_is_cut_off_at_256_kib_before_parsing(client, helpline, publisher):
    def chunks():  # no Content-Length: sent chunked; and not JSON, so only the size can answer
        for _ in range(300):
            yield b"x" * 1024

    response = client.post("/v1/events", content=chunks(), headers=helpline)
    assert response.status_code == 413
    assert publisher.records == []


def test_kafka_unavailable_is_503_with_retry_after_and_a_retry_is_accepted(client, helpline, publisher):
    event = new_event()
    publisher.down = True
    response = client.post("/v1/events", json=event, headers=helpline)
    assert response.status_code == 503
    assert _error(response)["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert publisher.records == []

    publisher.down = False
    retry = client.post("/v1/events", json=event, headers=helpline)
    assert retry.status_code == 202 and retry.json()["event_id"] == event["event_id"]
    assert len(publisher.records) == 1


def test_the_database_down_is_503_not_500(unit_settings, publisher, tmp_path, keys):
    from fastapi.testclient import TestClient

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    unreachable = create_engine(f"sqlite:///{blocker}/passage.db")  # cannot be opened
    with TestClient(create_app(unit_settings, engine=unreachable, publisher=publisher)) as test_client:
        response = test_client.post("/v1/events", json=new_event(), headers=bearer(keys["helpline"]))
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert "database" in _error(response)["message"]
    assert publisher.records == []


def test_publishing_does_not_block_the_event_loop(client, helpline, publisher):
    """While one request waits for Kafka, the server still answers others."""
    release, entered = threading.Event(), threading.Event()
    publish = publisher.publish

    def slow_publish(records):
        entered.set()
        release.wait(timeout=10)
        publish(records)

    publisher.publish = slow_publish
    results = {}
    slow = threading.Thread(
        target=lambda: results.update(post=client.post("/v1/events", json=new_event(), headers=helpline).status_code)
    )
    slow.start()
    try:
        assert entered.wait(timeout=10)
        assert client.get("/healthz").status_code == 200  # would hang if the loop were blocked
        assert results == {}
    finally:
        release.set()
        slow.join(timeout=10)
    assert results == {"post": 202}


def test_the_request_log_names_the_ids_and_never_the_payload(client, keys):
    event = new_event("migrant.registered")
    with structlog.testing.capture_logs() as logs:
        response = client.post("/v1/events", json=event, headers=bearer(keys["recruiting_agent"]))
    assert response.status_code == 202
    [line] = [entry for entry in logs if entry["event"] == "request"]
    assert line["agency_id"] == "recruiting_agent-1"
    assert line["event_id"] == event["event_id"] and line["case_id"] == event["case_id"]
    assert line["status"] == 202 and line["latency_ms"] >= 0
    assert "Asha" not in repr(logs) and "Kumari" not in repr(logs)


def test_each_request_is_timed_under_its_route_template_and_status(client, keys):
    """The request log's middleware also feeds the latency histogram (SPEC section 14): the route
    is the template, and a path no route matches counts as `unmatched`."""
    from prometheus_client import REGISTRY

    def count(route: str, status: str, method: str = "POST") -> float:
        labels = {"service": "gateway", "method": method, "route": route, "status": status}
        return REGISTRY.get_sample_value("passage_http_request_duration_seconds_count", labels) or 0.0

    before = count("/v1/events", "202"), count("/v1/events", "401"), count("unmatched", "404", "GET")
    assert client.post("/v1/events", json=new_event(), headers=bearer(keys["helpline"])).status_code == 202
    assert client.post("/v1/events", json=new_event()).status_code == 401
    assert client.get("/v1/nowhere/" + new_event()["case_id"]).status_code == 404
    after = count("/v1/events", "202"), count("/v1/events", "401"), count("unmatched", "404", "GET")
    assert [later - earlier for earlier, later in zip(before, after, strict=True)] == [1, 1, 1]


def test_the_view_database_failing_after_authentication_is_503_not_500(client, helpline, publisher, sqlite_engine):
    """Binding and conflict checks read the views: when that read fails, nothing is accepted (503)."""
    from sqlalchemy import text

    with sqlite_engine.begin() as connection:
        connection.execute(text("DROP TABLE timeline"))
    response = client.post("/v1/events", json=new_event(), headers=helpline)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert "view database" in _error(response)["message"]
    assert publisher.records == []
