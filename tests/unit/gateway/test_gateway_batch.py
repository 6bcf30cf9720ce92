"""POST /v1/events/batch: per-item results in order; valid items accepted beside rejected ones."""

from __future__ import annotations

import json

import pytest

from services.gateway.admission import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from tests.factories import bearer, new_event


def test_results_follow_the_items_and_valid_items_are_accepted(
    client, helpline, publisher, sqlite_engine, unit_settings
):
    good_1, good_2 = new_event(), new_event("deployment.grievance_filed", case_id="NP-2026-000007")
    forbidden = new_event("skilling.assessed")
    invalid = new_event(payload={"channel": "pigeon", "wellbeing": "ok"})
    items = [good_1, forbidden, "not an event", invalid, good_2]

    response = client.post("/v1/events/batch", json={"events": items}, headers=helpline)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["event_id"], r["status"]) for r in results] == [
        (good_1["event_id"], "accepted"),
        (forbidden["event_id"], "rejected"),
        (None, "rejected"),
        (invalid["event_id"], "rejected"),
        (good_2["event_id"], "accepted"),
    ]
    assert results[0]["errors"] == [] and results[4]["errors"] == []
    assert [(e["code"], e["path"]) for e in results[1]["errors"]] == [("forbidden", "event_type")]
    assert [(e["code"], e["path"]) for e in results[2]["errors"]] == [("invalid", "")]
    assert [(e["code"], e["path"]) for e in results[3]["errors"]] == [("invalid", "payload.channel")]
    assert all(e["message"] for r in results for e in r["errors"])

    published = [
        read_record(sqlite_engine, Keyring.from_settings(unit_settings), r.key, r.value) for r in publisher.records
    ]
    assert [str(e.event_id) for e in published] == [good_1["event_id"], good_2["event_id"]]
    assert [r.key for r in publisher.records] == ["IN-2026-000123", "NP-2026-000007"]
    assert publisher.calls == 1  # one acknowledgement wait for the whole batch
    assert published[0].recorded_at == published[1].recorded_at
    assert all(e.source.agency_id == "helpline-1" for e in published)


def test_a_batch_of_500_is_accepted(client, helpline, publisher):
    items = [new_event() for _ in range(MAX_BATCH_EVENTS)]
    response = client.post("/v1/events/batch", json={"events": items}, headers=helpline)
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}
    assert len(publisher.records) == MAX_BATCH_EVENTS


def test_more_than_500_is_refused_whole(client, helpline, publisher):
    items = [new_event() for _ in range(MAX_BATCH_EVENTS + 1)]
    response = client.post("/v1/events/batch", json={"events": items}, headers=helpline)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "events"
    assert publisher.records == []


def test_an_empty_batch_has_no_results(client, helpline, publisher):
    response = client.post("/v1/events/batch", json={"events": []}, headers=helpline)
    assert response.status_code == 200 and response.json() == {"results": []}
    assert publisher.records == []


@pytest.mark.parametrize(
    "body, path",
    [
        ([], ""),
        ({}, "events"),
        ({"events": {}}, "events"),
        ({"events": [], "more": 1}, "more"),
    ],
)
def test_a_body_that_is_not_a_batch_is_422(client, helpline, body, path):
    response = client.post("/v1/events/batch", json=body, headers=helpline)
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == [path]


def test_a_batch_of_malformed_json_is_400(client, helpline):
    response = client.post("/v1/events/batch", content=b'{"events": [', headers=helpline)
    assert response.status_code == 400


def test_a_batch_needs_a_key(client, publisher):
    response = client.post("/v1/events/batch", json={"events": [new_event()]})
    assert response.status_code == 401
    assert publisher.records == []


def test_a_batch_body_over_its_limit_is_413(client, helpline, publisher):
    response = client.post("/v1/events/batch", content=b" " * (MAX_BATCH_BYTES + 1), headers=helpline)
    assert response.status_code == 413
    assert publisher.records == []


def test_one_event_over_256_kib_inside_a_batch_is_rejected_alone(client, keys, publisher):
    huge = new_event("migrant.registered")
    huge["payload"]["aspirations"] = {"occupations": ["5322"] * 40_000}  # ~280 KB, every code valid
    response = client.post(
        "/v1/events/batch",
        json={"events": [huge, new_event("migrant.registered")]},
        headers=bearer(keys["skilling_body"]),
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    assert results[0]["errors"][0]["code"] == "payload_too_large"
    assert len(publisher.records) == 1


def test_kafka_unavailable_fails_the_whole_batch_with_503(client, helpline, publisher):
    items = [new_event(), new_event()]
    publisher.down = True
    response = client.post("/v1/events/batch", json={"events": items}, headers=helpline)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert publisher.records == []

    publisher.down = False
    again = client.post("/v1/events/batch", content=json.dumps({"events": items}), headers=helpline)
    assert [r["status"] for r in again.json()["results"]] == ["accepted", "accepted"]
