"""Alembic's head revision builds exactly the schema of services/storage/tables.py (SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from services.storage.db import make_engine
from services.storage.migrate import SchemaMismatch, head_revision, migrate, schema_differences


def _version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_head_equals_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrate(engine) == head_revision()
    with engine.connect() as conn:
        assert schema_differences(conn) == []
    assert _version(engine) == head_revision()
    engine.dispose()


def test_migrate_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    migrate(url)
    migrate(url)
    engine = make_engine(url)
    assert _version(engine) == head_revision()
    engine.dispose()


def test_a_create_all_database_is_adopted_at_head(sqlite_engine):
    migrate(sqlite_engine)
    assert _version(sqlite_engine) == head_revision()


def test_a_differing_unversioned_database_is_refused(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_cases_stage"))
    with pytest.raises(SchemaMismatch, match="ix_cases_stage"):
        migrate(sqlite_engine)
    assert "alembic_version" not in inspect(sqlite_engine).get_table_names()
