"""The query service's engine does not ping pooled connections (services.query.deps.ViewSession):
when PostgreSQL has dropped them (a restart), the next requests still answer, on new connections."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from services.config import Settings
from services.query.app import create_app
from services.storage.db import make_engine
from tests.factories import bearer
from tests.fakes import FakePublisher


def _drop_every_other_connection(settings: Settings) -> int:
    """What a server restart does to the pool: every connection to this database but ours is closed."""
    admin = make_engine(settings)
    try:
        with admin.connect() as conn:
            dropped = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        admin.dispose()
    return dropped


def test_requests_after_the_database_dropped_the_pooled_connections_succeed(query_settings, query_world):
    _engine, tokens = query_world
    app = create_app(query_settings, publisher=FakePublisher())  # its own engine, as `passage query` builds it
    with TestClient(app) as client:
        headers = bearer(tokens["sup-all"])
        for path in ("/v1/cases/SA-0001", "/v1/stats/stages", "/v1/alerts"):  # fill the pool
            assert client.get(path, headers=headers).status_code == 200
        assert _drop_every_other_connection(query_settings) >= 1
        for path in ("/v1/cases/SA-0001", "/v1/stats/skills", "/v1/alerts", "/v1/cases"):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
