"""Fixtures for the worker's unit tests: SQLite views, a fake publisher, test settings."""

from __future__ import annotations

import pytest

from services.config import Settings
from services.storage.db import create_all, make_engine
from services.worker.pipeline import Pipeline
from tests.unit.worker.support import FakePublisher


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def unit_settings(tmp_path) -> Settings:
    return Settings(
        env="test", topic_prefix="unit", database_url=f"sqlite:///{tmp_path / 'views.db'}", var_dir=tmp_path
    )


@pytest.fixture
def pipeline(unit_settings, publisher):
    """The worker's pipeline over a fresh SQLite view database and the fake publisher."""
    engine = make_engine(unit_settings)
    create_all(engine)
    yield Pipeline(unit_settings, engine, publisher)
    engine.dispose()
