"""Every endpoint and error of the query API against PostgreSQL, publishing to the real broker
(the shared contract), plus readiness with both dependencies up."""

from __future__ import annotations

import pytest

from tests.query_contract import *  # noqa: F403 - the shared contract tests run here against PostgreSQL

pytestmark = pytest.mark.integration


def test_readyz_with_kafka_and_postgresql_up(api):
    response = api.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"kafka": True, "database": True}}
