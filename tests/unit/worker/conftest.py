"""Fixtures for the worker's unit tests: SQLite views, a fake publisher, test settings."""

from __future__ import annotations

import pytest

from services.config import Settings
from tests.unit.worker.support import FakePublisher


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def unit_settings(tmp_path) -> Settings:
    return Settings(env="test", topic_prefix="unit", database_url=f"sqlite:///{tmp_path / 'views.db'}",
                    var_dir=tmp_path)
