"""Alembic's head revision builds exactly the schema of services/storage/tables.py (SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from services.storage import tables  # noqa: F401  (registers every table on SQLModel.metadata)
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


def test_the_comparison_sees_every_table_and_every_index(tmp_path):
    """An empty diff means something only if nothing is left out: drop every index, then every
    table, of a database at head, and each one is reported missing."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    migrate(engine)
    declared = SQLModel.metadata.tables
    indexes = {index.name for table in declared.values() for index in table.indexes}
    assert indexes, "the models declare indexes"
    with engine.begin() as conn:
        for name in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        assert {diff[1].name for diff in schema_differences(conn) if diff[0] == "add_index"} == indexes
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE "{table.name}"'))
        assert {diff[1].name for diff in schema_differences(conn) if diff[0] == "add_table"} == set(declared)
    engine.dispose()


def test_the_comparison_sees_a_primary_key_autogenerate_leaves_out(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pk.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE officer_action_claims"))
        conn.execute(
            text(
                "CREATE TABLE officer_action_claims (subject VARCHAR(64) NOT NULL, action VARCHAR(32) NOT NULL, "
                "event_id VARCHAR(36) NOT NULL, officer_id VARCHAR(64) NOT NULL, claimed_at DATETIME NOT NULL, "
                "PRIMARY KEY (subject))"
            )
        )
        assert schema_differences(conn) == [
            ("modify_primary_key", "officer_action_claims", ["subject"], ["subject", "action"])
        ]
    engine.dispose()
