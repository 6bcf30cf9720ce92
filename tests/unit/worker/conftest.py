"""Fixtures for the worker's unit tests: SQLite views, a fake publisher, test settings."""

from __future__ import annotations

import pytest

from services.storage.db import create_all, make_engine
from services.worker.pipeline import Pipeline


@pytest.fixture
def pipeline(unit_settings, publisher):
    """The worker's pipeline over a fresh SQLite view database and the fake publisher."""
    engine = make_engine(unit_settings)
    create_all(engine)
    yield Pipeline(unit_settings, engine, publisher)
    engine.dispose()
