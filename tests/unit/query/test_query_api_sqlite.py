"""Every endpoint and error of the query API against SQLite (the shared contract), plus what only
a fake can show: a refused action publishes nothing, and readiness reports an unreachable Kafka."""

from __future__ import annotations

from tests.query_contract import *  # noqa: F403 - the shared contract tests run here against SQLite


def test_refused_actions_publish_nothing(api, publisher):
    with api.kafka_down():
        assert api.post("/v1/cases/SA-0001/notes", "sup-all", {"text": "x"}).status_code == 503
    api.post("/v1/alerts/A-WAGE/resolve", "sup-all", {"note": "again"})
    api.post("/v1/alerts/A-PASS/acknowledge", "off-sa", {})
    assert publisher.records == []


def test_readyz_names_kafka_when_it_is_unreachable(api):
    assert api.client.get("/readyz").json() == {"status": "ready", "checks": {"kafka": True, "database": True}}
    with api.kafka_down():
        response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == [{"kafka": False, "database": True}]


def test_every_request_gives_its_connection_back(api, sqlite_engine):
    api.get("/v1/cases/SA-0001")
    api.get("/v1/cases/ZZ-9999")
    api.get("/v1/cases", who=None)
    api.get("/v1/audit", "off-sa")
    api.post("/v1/cases/SA-0001/notes", "sup-all", {"text": "called"})
    assert sqlite_engine.pool.checkedout() == 0
