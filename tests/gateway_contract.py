"""Gateway tests that run twice: against SQLite views (tests/unit/gateway) and PostgreSQL views
(tests/integration/gateway), like tests/query_contract.py for the query API. Each side provides
`gateway_engine` (a view database with every table), `unit_settings` and `publisher` (tests/conftest.py);
the in-process gateway over them is built here.

Conflicting duplicates (SPEC section 7) and case binding, which read the views through SQL whose
dialects differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from services.config import Settings
from services.gateway.agencies import AGENCY_KINDS, add_agency
from services.gateway.app import create_app
from services.storage.tables import Case, TimelineEvent
from tests.factories import bearer, new_event
from tests.fakes import FakePublisher


@pytest.fixture
def keys(gateway_engine: Engine, unit_settings: Settings) -> dict[str, str]:
    """One agency of every kind: kind -> its key (agency id = `<kind>-1`)."""
    return {kind: add_agency(gateway_engine, unit_settings.secret_key, f"{kind}-1", kind).key for kind in AGENCY_KINDS}


@pytest.fixture
def client(
    unit_settings: Settings, gateway_engine: Engine, publisher: FakePublisher, keys: dict[str, str]
) -> Iterator[TestClient]:
    """The gateway app in-process over the view database and the fake publisher."""
    with TestClient(create_app(unit_settings, engine=gateway_engine, publisher=publisher)) as test_client:
        yield test_client


@pytest.fixture
def helpline(keys: dict[str, str]) -> dict[str, str]:
    """Headers of a helpline agency (may publish welfare checks, grievances, incidents...)."""
    return bearer(keys["helpline"])


def _store(engine, event: dict, *, stage: str | None = None, employer_id: str | None = None) -> None:
    """Put an event (and its case) in the views as the worker would."""
    stamped = {
        **event,
        "recorded_at": datetime.now(UTC).isoformat(),
        "source": {"agency_id": "someone", "agency_kind": "mission"},
    }
    with engine.begin() as connection:
        connection.execute(
            insert(TimelineEvent.__table__).values(
                event_id=event["event_id"],
                case_id=event["case_id"],
                event_type=event["event_type"],
                occurred_at=datetime.fromisoformat(event["occurred_at"]),
                envelope=stamped,
            )
        )
        if stage is not None:
            connection.execute(
                insert(Case.__table__).values(case_id=event["case_id"], stage=stage, employer_id=employer_id, state={})
            )


def test_the_same_event_id_with_other_content_is_409_and_identical_content_is_202(
    client, helpline, publisher, gateway_engine
):
    event = new_event()
    _store(gateway_engine, event)
    assert client.post("/v1/events", json=event, headers=helpline).status_code == 202
    changed = {**event, "payload": {**event["payload"], "wellbeing": "distress"}}
    response = client.post("/v1/events", json=changed, headers=helpline)
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflicting_duplicate"
    other_case = {**event, "case_id": "XX-0000-1"}
    assert client.post("/v1/events", json=other_case, headers=helpline).status_code == 409
    batch = client.post("/v1/events/batch", json={"events": [changed, event]}, headers=helpline).json()["results"]
    assert [(r["status"], [e["code"] for e in r["errors"]]) for r in batch] == [
        ("rejected", ["conflicting_duplicate"]),
        ("accepted", []),
    ]
    assert len(publisher.records) == 2


def test_binding_through_http_single_and_batch(client, keys, publisher, gateway_engine):
    registered = new_event("migrant.registered")
    _store(gateway_engine, registered, stage="deployed", employer_id="E-OTHER")
    agent = bearer(keys["recruiting_agent"])
    offer = new_event("recruitment.job_offer_made")
    offer["payload"]["recruiting_agent_id"] = "recruiting_agent-1"
    response = client.post("/v1/events", json=offer, headers=agent)
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_party_to_case"
    fresh = new_event("recruitment.job_offer_made", case_id="NEW-CASE-1")
    fresh["payload"]["recruiting_agent_id"] = "RA-somebody-else"
    named = dict(
        fresh,
        event_id=new_event()["event_id"],
        payload={**fresh["payload"], "recruiting_agent_id": "recruiting_agent-1"},
    )
    results = client.post("/v1/events/batch", json={"events": [fresh, named, offer]}, headers=agent).json()["results"]
    assert [(r["status"], [e["code"] for e in r["errors"]]) for r in results] == [
        ("rejected", ["not_party_to_case"]),
        ("accepted", []),
        ("rejected", ["not_party_to_case"]),
    ]
    assert [record.key for record in publisher.records] == ["NEW-CASE-1"]


def test_an_employer_agency_publishes_as_its_employer_id(client, gateway_engine, unit_settings, publisher):
    key = add_agency(gateway_engine, unit_settings.secret_key, "acme", "employer", employer_id="E-ACME").key
    _store(gateway_engine, new_event("migrant.registered"), stage="deployed", employer_id="E-ACME")
    assert client.post("/v1/events", json=new_event("deployment.wage_paid"), headers=bearer(key)).status_code == 202
    elsewhere = new_event("deployment.wage_paid", case_id="OTHER-CASE-1")
    assert client.post("/v1/events", json=elsewhere, headers=bearer(key)).status_code == 403
