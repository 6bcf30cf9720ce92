"""End-to-end fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.config import Settings
from tests.isolation import own_settings


@pytest.fixture
def isolated_settings(settings: Settings, pg_admin_url: str, tmp_path) -> Iterator[Settings]:
    """The session's settings with a database, topics and var/ of this test's own: a test that counts
    everything in the views (`passage up` + `passage demo`) sees no other test's cases."""
    with own_settings(settings, pg_admin_url, "e2e", topics=False, var_dir=tmp_path / "var") as own:
        yield own
