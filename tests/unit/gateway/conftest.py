"""The gateway app over a throwaway SQLite registry and a fake publisher (no Kafka, no network)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.config import Settings
from services.gateway.agencies import AGENCY_KINDS, add_agency
from services.gateway.app import create_app
from tests.unit.gateway.support import FakePublisher, bearer


@pytest.fixture
def unit_settings(tmp_path) -> Settings:
    return Settings(env="test", topic_prefix="unit", var_dir=tmp_path, _env_file=None)


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def keys(sqlite_engine, unit_settings) -> dict[str, str]:
    """One agency of every kind: kind -> its key (agency id = `<kind>-1`)."""
    return {kind: add_agency(sqlite_engine, unit_settings.secret_key, f"{kind}-1", kind).key for kind in AGENCY_KINDS}


@pytest.fixture
def client(unit_settings, sqlite_engine, publisher, keys):
    with TestClient(create_app(unit_settings, engine=sqlite_engine, publisher=publisher)) as test_client:
        yield test_client


@pytest.fixture
def helpline(keys) -> dict[str, str]:
    """Headers of a helpline agency (may publish welfare checks, grievances, incidents...)."""
    return bearer(keys["helpline"])
