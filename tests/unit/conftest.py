"""Unit fixtures shared across packages (those for every tier are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from services.config import get_settings
from services.storage.db import make_engine


@pytest.fixture
def cli_engine(tmp_path, monkeypatch) -> Iterator[Engine]:
    """The SQLite database that `services.cli.main([...])` uses in this test, configured through the
    environment as in production (settings read afresh), and logging left alone: structlog would
    keep writing to capsys' stream after the test closed it."""
    url = f"sqlite:///{tmp_path / 'views.db'}"
    monkeypatch.setenv("PASSAGE_DATABASE_URL", url)
    monkeypatch.setenv("PASSAGE_SECRET_KEY", "test-secret")
    monkeypatch.setattr("services.cli.configure_logging", lambda *_args: None)
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
