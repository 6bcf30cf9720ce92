"""SPEC section 7's rules for both services, at the query API: Idempotency-Key, exclusive alert
actions, text rules on officer actions, nesting, headers, /docs. Run against SQLite
(tests/unit/query) and PostgreSQL (tests/integration/query) with a `views_engine` fixture: the
engine of the seeded views, where each test adds an alert of its own."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from tests.factories import bearer
from tests.query_contract import assert_error
from tests.query_seed import alert


def fresh_alert(engine) -> str:
    alert_id = f"A-{uuid.uuid4().hex[:12]}"
    with Session(engine) as session:
        session.add(alert(alert_id, "SA-0001", "DISTRESS", "critical", "open", 3, "SA", "Kerala"))
        session.commit()
    return alert_id


def post(api, path: str, body, who: str = "sup-all", key: str | None = None):
    headers = {**bearer(api.tokens[who]), **({"Idempotency-Key": key} if key else {})}
    return api.client.post(path, json=body, headers=headers)


def test_the_same_idempotency_key_gives_the_same_event_id_and_answer(api, views_engine):
    alert_id, key = fresh_alert(views_engine), str(uuid.uuid4())
    first = post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "sheltered"}, key=key)
    again = post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "sheltered"}, key=key)
    assert first.status_code == again.status_code == 202, again.text
    assert first.json() == again.json()
    assert api.published(first.json()["event_id"]).event.payload.note == "sheltered"
    note_key = str(uuid.uuid4())
    notes = [post(api, "/v1/cases/SA-0001/notes", {"text": "called her"}, key=note_key) for _ in range(2)]
    assert [n.status_code for n in notes] == [202, 202] and notes[0].json() == notes[1].json()
    other_officer = post(api, "/v1/cases/SA-0001/notes", {"text": "called her"}, who="off-sa", key=note_key)
    assert other_officer.status_code == 202 and other_officer.json() != notes[0].json()


def test_an_idempotency_key_reused_for_another_request_is_refused(api):
    key = str(uuid.uuid4())
    assert post(api, "/v1/cases/SA-0001/notes", {"text": "first"}, key=key).status_code == 202
    assert_error(post(api, "/v1/cases/SA-0001/notes", {"text": "second"}, key=key), 422, "idempotency_key_reused")
    assert_error(post(api, "/v1/cases/SA-0001/notes", {"text": "x"}, key="bad key"), 422, "invalid")


def test_an_alert_is_resolved_once_and_not_acknowledged_after(api, views_engine):
    alert_id = fresh_alert(views_engine)
    assert post(api, f"/v1/alerts/{alert_id}/acknowledge", {}).status_code == 202
    assert post(api, f"/v1/alerts/{alert_id}/acknowledge", {"note": "again"}).status_code == 202  # sequential: fine
    assert post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "done"}).status_code == 202
    # The views still say "open" (no worker here); the claim answers at once.
    assert_error(post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "done"}), 409, "conflict")
    assert_error(post(api, f"/v1/alerts/{alert_id}/acknowledge", {}), 409, "conflict")


def test_a_resolve_kafka_did_not_take_can_be_retried(api, views_engine):
    alert_id, key = fresh_alert(views_engine), str(uuid.uuid4())
    with api.kafka_down():
        assert post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "done"}, key=key).status_code == 503
    retried = post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "done"}, key=key)
    assert retried.status_code == 202, retried.text


def test_officer_text_with_control_characters_is_422(api, views_engine):
    alert_id = fresh_alert(views_engine)
    assert_error(post(api, "/v1/cases/SA-0001/notes", {"text": "hi\x1b[2J"}), 422, "invalid")
    assert_error(post(api, f"/v1/alerts/{alert_id}/resolve", {"note": "nul\x00"}), 422, "invalid")
    assert post(api, "/v1/cases/SA-0001/notes", {"text": "line one\nline two\ttabbed"}).status_code == 202


def test_json_nested_deeper_than_32_levels_is_400(api):
    for depth in (33, 5000):
        body = '{"text": ' + "[" * depth + "]" * depth + "}"
        response = api.client.post(
            "/v1/cases/SA-0001/notes",
            content=body,
            headers={**bearer(api.tokens["sup-all"]), "Content-Type": "application/json"},
        )
        assert_error(response, 400, "malformed_request")


def test_every_query_response_carries_no_store_and_nosniff(api):
    for response in (
        api.get("/v1/cases/SA-0001"),
        api.get("/v1/cases/ZZ-9999"),
        api.get("/v1/cases", who=None),
        api.client.get("/healthz"),
        api.client.get("/docs"),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    docs = api.client.get("/docs")
    assert docs.status_code == 200 and "https://" not in docs.text and "http://" not in docs.text


__all__ = [name for name in globals() if name.startswith("test_")]
