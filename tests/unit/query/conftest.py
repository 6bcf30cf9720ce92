"""The query API over a SQLite view database seeded with `tests.query_seed` and a fake publisher."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from services.query.app import create_app
from tests.query_contract import ApiHarness, Published
from tests.query_seed import seed


@pytest.fixture
def api(sqlite_engine, unit_settings, publisher):
    tokens = seed(sqlite_engine, unit_settings.secret_key)
    app = create_app(unit_settings, engine=sqlite_engine, publisher=publisher)

    def published(event_id: str) -> Published:
        for record in publisher.records:
            event = read_record(sqlite_engine, Keyring.from_settings(unit_settings), record.key, record.value)
            if str(event.event_id) == event_id:
                return Published(record.topic, record.key, dict(record.headers), event)
        raise AssertionError(f"event {event_id} was not published")

    @contextmanager
    def kafka_down():
        publisher.down = True
        try:
            yield
        finally:
            publisher.down = False

    with TestClient(app) as client:
        yield ApiHarness(client, tokens, unit_settings.journey_topic, published, kafka_down)
