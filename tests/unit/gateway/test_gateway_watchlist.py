"""Watchlist events at the gateway (SPEC section 12): who may publish which, keyed by party id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import events
from services.domain import RuleConfig
from services.worker.persist import apply_batch
from services.worker.views import LIVE
from tests.factories import bearer, delivered, new_event


def entry(party_kind: str = "employer", party_id: str = "EMP-0001", added: bool = True, case_id: str | None = None):
    payload = {"party_kind": party_kind, "party_id": party_id}
    if added:
        payload["reason"] = "passports withheld"
    event_type = "watchlist.entry_added" if added else "watchlist.entry_removed"
    return new_event(event_type, payload=payload, case_id=case_id or party_id)


@pytest.mark.parametrize(
    "kind,party_kind,added,status",
    [
        ("emigration_authority", "employer", True, 202),
        ("emigration_authority", "recruiting_agent", True, 202),
        ("emigration_authority", "recruiting_agent", False, 202),
        ("mission", "employer", True, 202),
        ("mission", "employer", False, 202),
        ("mission", "recruiting_agent", True, 403),
        ("mission", "recruiting_agent", False, 403),
        ("recruiting_agent", "employer", True, 403),
        ("helpline", "employer", True, 403),
    ],
)
def test_who_may_watchlist_whom(client, keys, publisher, kind, party_kind, added, status):
    response = client.post("/v1/events", json=entry(party_kind, added=added), headers=bearer(keys[kind]))
    assert response.status_code == status, response.json()
    if status == 202:
        [record] = publisher.records
        assert record.key == "EMP-0001"  # the party id is the partition key
    else:
        assert response.json()["error"]["code"] == "forbidden" and not publisher.records


def test_the_case_id_must_be_the_party_id(client, keys, publisher):
    response = client.post(
        "/v1/events", json=entry(case_id="IN-2026-000123"), headers=bearer(keys["emigration_authority"])
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "case_id" and not publisher.records


def test_a_watchlist_event_id_the_worker_holds_with_other_content_is_409(client, keys, sqlite_engine):
    sent = entry()
    stored = events.validate(
        {
            **sent,
            "recorded_at": datetime.now(UTC).isoformat(),
            "source": {"agency_id": "emigration_authority-1", "agency_kind": "emigration_authority"},
        },
        stamped=True,
    )
    with sqlite_engine.begin() as conn:
        apply_batch(conn, LIVE, [delivered(stored)], RuleConfig(), datetime.now(UTC))
    headers = bearer(keys["emigration_authority"])
    assert client.post("/v1/events", json=sent, headers=headers).status_code == 202  # identical: fine
    other = {**sent, "payload": {**sent["payload"], "reason": "something else"}}
    answer = client.post("/v1/events", json=other, headers=headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "conflicting_duplicate"
