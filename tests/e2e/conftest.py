"""End-to-end fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.config import Settings
from tests.databases import scratch_database


@pytest.fixture
def isolated_settings(settings: Settings, pg_admin_url: str, tmp_path) -> Iterator[Settings]:
    """The session's settings with a database, topics and var/ of this test's own: a test that counts
    everything in the views (`passage up` + `passage demo`) sees no other test's cases."""
    with scratch_database(pg_admin_url, "passage_e2e") as database_url:
        yield settings.model_copy(
            update={
                "database_url": database_url,
                "topic_prefix": f"e{uuid.uuid4().hex[:10]}",
                "var_dir": tmp_path / "var",
            }
        )
