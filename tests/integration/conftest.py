"""Integration fixtures: `worker_settings` gives a test (the worker's, the operations') topics and a
PostgreSQL database of its own, so its consumer group, DLQ and views never see another test's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.config import Settings
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.isolation import own_settings, worker_settings_on


@pytest.fixture
def worker_settings(kafka_bootstrap: str, pg_admin_url: str, tmp_path) -> Iterator[Settings]:
    with own_settings(worker_settings_on(kafka_bootstrap, tmp_path, partitions=6), pg_admin_url, "worker") as settings:
        yield settings


@pytest.fixture
def views_engine(worker_settings: Settings):
    """The test's view database at the Alembic head (the worker would migrate it on start too)."""
    engine = make_engine(worker_settings)
    migrate(engine)
    yield engine
    engine.dispose()
