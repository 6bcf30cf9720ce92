"""Personal data end to end: the gateway and the query service in-process (TestClient), the real
broker, a scratch PostgreSQL database, and `passage worker` as a process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from services.config import Settings
from services.demo.credentials import EXTRA_AGENCIES
from services.gateway.agencies import AGENCY_KINDS, add_agency
from services.gateway.app import create_app as gateway_app
from services.query.app import create_app as query_app
from services.query.officers import add_officer
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.isolation import own_settings, worker_settings_on


@dataclass
class World:
    settings: Settings
    engine: object
    gateway: TestClient
    query: TestClient
    agency_keys: dict[str, str]  # kind -> key of agency demo-<kind>; id -> key of the further demo agencies
    officer_tokens: dict[str, str]  # supervisor, dest, origin

    def agency(self, kind: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agency_keys[kind]}"}

    def officer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.officer_tokens[name]}"}


@pytest.fixture
def privacy_settings(kafka_bootstrap: str, pg_admin_url: str, tmp_path) -> Iterator[Settings]:
    with own_settings(worker_settings_on(kafka_bootstrap, tmp_path, partitions=4), pg_admin_url, "privacy") as settings:
        yield settings


@pytest.fixture
def world(privacy_settings: Settings) -> Iterator[World]:
    engine = make_engine(privacy_settings)
    migrate(engine)
    keys = {kind: add_agency(engine, privacy_settings.secret_key, f"demo-{kind}", kind).key for kind in AGENCY_KINDS}
    keys |= {
        agency: add_agency(engine, privacy_settings.secret_key, agency, kind).key  # the demo's further
        for agency, kind in EXTRA_AGENCIES.items()
    }  # recruiting agencies, by id
    officers = {
        "supervisor": add_officer(engine, privacy_settings.secret_key, "sup-1", "supervisor", ["*"]),
        "officer": add_officer(engine, privacy_settings.secret_key, "off-all", "officer", ["*"]),
    }
    tokens = {name: registered.token for name, registered in officers.items()}
    with TestClient(gateway_app(privacy_settings)) as gateway, TestClient(query_app(privacy_settings)) as query:
        yield World(privacy_settings, engine, gateway, query, keys, tokens)
    engine.dispose()
