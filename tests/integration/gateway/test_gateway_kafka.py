"""The gateway against the real broker and PostgreSQL: what is accepted is on the journey topic,
stamped and keyed; whatever is refused leaves the topic untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

import events
from services.gateway.app import create_app
from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from services.storage.db import make_engine
from tests.factories import bearer, new_event
from tests.integration.topics import end_offsets, records_with_event_ids
from tests.servers import serving

pytestmark = pytest.mark.integration


def test_an_accepted_event_is_on_the_journey_topic_stamped_and_keyed_by_case(gateway_url, agency_keys, topics):
    event = new_event("deployment.incident_reported", case_id="PH-2026-004711")
    before = datetime.now(UTC)
    response = httpx.post(f"{gateway_url}/v1/events", json=event, headers=bearer(agency_keys["mission"]), timeout=30)
    after = datetime.now(UTC)
    assert response.status_code == 202, response.text
    assert response.json() == {"event_id": event["event_id"], "status": "accepted"}

    [record] = records_with_event_ids(topics, {event["event_id"]})
    assert record.topic == topics.journey_topic
    assert record.key == b"PH-2026-004711"
    assert dict(record.headers) == {
        "event_type": b"deployment.incident_reported",
        "schema_version": b"1",
        "event_id": event["event_id"].encode(),
        "encryption": b"passage-fields-v1",
    }
    assert event["payload"]["description"].encode() not in record.value  # free text is sealed (SPEC section 9)
    engine = make_engine(topics)
    try:
        stored = read_record(engine, Keyring.from_settings(topics), record.key, record.value)
    finally:
        engine.dispose()
    assert before <= stored.recorded_at <= after
    assert stored.source == events.Source(agency_id="gw-mission", agency_kind="mission")
    assert stored.payload.description == event["payload"]["description"]


def test_a_batch_puts_only_its_valid_items_on_the_topic_in_order(gateway_url, agency_keys, topics):
    items = [new_event(case_id="BD-2026-000001") for _ in range(3)]
    items.insert(1, new_event("recruitment.visa_issued", case_id="BD-2026-000001"))  # not a helpline's
    response = httpx.post(
        f"{gateway_url}/v1/events/batch", json={"events": items}, headers=bearer(agency_keys["helpline"]), timeout=30
    )
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected", "accepted", "accepted"]

    records = records_with_event_ids(topics, {item["event_id"] for item in items})
    accepted = [items[0], items[2], items[3]]
    assert [dict(r.headers)["event_id"].decode() for r in records] == [e["event_id"] for e in accepted]


def _chunks():
    for _ in range(300):
        yield b"x" * 1024


def test_every_refusal_leaves_the_topic_unchanged(gateway_url, agency_keys, topics):
    key = bearer(agency_keys["helpline"])
    url = f"{gateway_url}/v1/events"
    too_big = json.dumps(new_event()).encode()[:-1] + b" " * 300_000 + b"}"
    refusals = [
        (400, dict(content=b'{"event_id": ', headers=key)),
        (401, dict(json=new_event())),
        (401, dict(json=new_event(), headers=bearer("pak_forged"))),
        (403, dict(json=new_event("case.note_added"), headers=key)),
        (403, dict(json=new_event("skilling.certified"), headers=key)),
        (413, dict(content=too_big, headers=key)),
        (413, dict(content=_chunks(), headers=key)),
        (422, dict(json=new_event(case_id="?"), headers=key)),
    ]
    before = end_offsets(topics)
    with httpx.Client(timeout=30) as client:
        for status, request in refusals:
            response = client.post(url, **request)
            assert response.status_code == status, (status, response.text)
            assert set(response.json()["error"]) == {"code", "message", "details"}
        rejected_batch = client.post(f"{url}/batch", json={"events": [new_event("case.note_added"), {}]}, headers=key)
        assert {r["status"] for r in rejected_batch.json()["results"]} == {"rejected"}
        assert end_offsets(topics) == before

        assert client.post(url, json=new_event(), headers=key).status_code == 202
    after = end_offsets(topics)
    assert sum(after.values()) == sum(before.values()) + 1  # the offsets above could have moved


def test_postgresql_down_is_503_and_not_ready(topics, agency_keys):
    from services.storage.db import make_engine

    unreachable = make_engine("postgresql+psycopg://postgres:postgres@127.0.0.1:9/nothing")  # nothing listens
    before = end_offsets(topics)
    with serving(create_app(topics, engine=unreachable)) as url:
        response = httpx.post(f"{url}/v1/events", json=new_event(), headers=bearer(agency_keys["helpline"]), timeout=30)
        ready = httpx.get(f"{url}/readyz", timeout=30)
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert response.json()["error"]["code"] == "unavailable"
    assert ready.status_code == 503 and "database" in ready.json()["error"]["message"]
    assert end_offsets(topics) == before


def test_readyz_and_openapi_on_the_real_server(gateway_url):
    ready = httpx.get(f"{gateway_url}/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["checks"] == {"kafka": True, "database": True}
    assert "/v1/events/batch" in httpx.get(f"{gateway_url}/openapi.json", timeout=30).json()["paths"]
