"""Health, readiness, the OpenAPI document, and the clients the app owns."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from services.gateway.app import create_app
from tests.fakes import FakePublisher


def test_healthz_and_readyz_when_everything_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"kafka": True, "database": True}


def test_readyz_is_503_naming_kafka_when_it_is_unreachable(client, publisher):
    publisher.down = True
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "kafka" in ready.json()["error"]["message"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(unit_settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with TestClient(
        create_app(unit_settings, engine=create_engine(f"sqlite:///{blocker}/x.db"), publisher=FakePublisher())
    ) as test_client:
        ready = test_client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["error"]["message"].startswith("not ready: database")


def test_the_openapi_document_describes_both_routes(client):
    document = client.get("/openapi.json").json()
    single, batch = document["paths"]["/v1/events"]["post"], document["paths"]["/v1/events/batch"]["post"]
    assert {"202", "400", "401", "403", "413", "422", "503"} <= set(single["responses"])
    assert {"200", "400", "401", "413", "422", "503"} <= set(batch["responses"])
    schemas = document["components"]["schemas"]
    for operation, name in ((single, "Event"), (batch, "EventBatch")):
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{name}" and name in schemas
    assert "case.note_added" not in schemas["Event"]["properties"]["event_type"]["enum"]
    assert any(scheme.get("scheme") == "bearer" for scheme in document["components"]["securitySchemes"].values())
    assert {"/healthz", "/readyz"} <= set(document["paths"])


def test_unknown_routes_and_methods_answer_in_the_error_shape(client):
    assert client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    wrong_method = client.get("/v1/events")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_the_app_closes_only_the_clients_it_built(unit_settings, sqlite_engine):
    given = FakePublisher()
    with TestClient(create_app(unit_settings, engine=sqlite_engine, publisher=given)):
        pass
    assert given.closed is False
