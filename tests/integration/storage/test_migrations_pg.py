"""Alembic's head revision builds exactly the schema of services/storage/tables.py (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.storage.db import make_engine
from services.storage.migrate import head_revision, migrate, schema_differences
from tests.databases import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_database(pg_admin_url):
    with scratch_database(pg_admin_url, "passage_mig") as url:
        yield url


def test_head_equals_the_models_on_postgresql(empty_database):
    assert migrate(empty_database) == head_revision()
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        assert schema_differences(conn) == []
    engine.dispose()


def test_the_create_all_test_database_is_adopted(settings):
    migrate(settings.db_url)
    engine = make_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
    engine.dispose()
