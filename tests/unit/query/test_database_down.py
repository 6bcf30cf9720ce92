"""The view database unreachable: officers get a 503 that says to retry, never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.query.app import create_app
from services.storage.db import make_engine
from tests.fakes import FakePublisher


def test_an_unreachable_database_answers_503(unit_settings):
    engine = make_engine("postgresql+psycopg://passage:x@127.0.0.1:9/passage")  # nothing listens on port 9
    with TestClient(create_app(unit_settings, engine=engine, publisher=FakePublisher())) as client:
        response = client.get("/v1/cases/IN-2026-000001", headers={"Authorization": "Bearer pot_anything"})
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "retry" in error["message"]
