"""Alembic's head revision builds exactly the schema of services/storage/tables.py (SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from services.storage import tables  # noqa: F401  (registers every table on SQLModel.metadata)
from services.storage.db import make_engine
from services.storage.migrate import SchemaMismatch, alembic_config, head_revision, migrate, schema_differences
from services.worker.counts import recount
from services.worker.views import LIVE


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


def test_the_offer_years_migration_fills_the_year_rows_a_replay_would(tmp_path):
    """0013 adds the year rows of offers tallied before it (from their month rows), on SQLite as on
    PostgreSQL (tests/integration/storage/test_migrations_pg.py)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'years.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0010")
        conn.execute(
            text(
                "INSERT INTO job_offers (event_id, case_id, offer_id, occupation_code, destination_country, "
                "origin_region, occurred_at) VALUES (:id, 'C1', 'O1', '9111', 'SA', 'Kerala', :at)"
            ),
            [
                {"id": "E1", "at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC)},
                {"id": "E2", "at": datetime(2026, 1, 1, 0, 30, tzinfo=UTC)},
                {"id": "E3", "at": datetime(2026, 4, 1, 0, 30, tzinfo=UTC)},
            ],
        )
        recount(conn, LIVE)  # the counts as the worker kept them before 0013: no year rows
        conn.execute(text("DELETE FROM offer_counts WHERE grain = 'year'"))
    migrate(engine)

    def offer_rows() -> list[tuple]:
        with engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(text("SELECT * FROM offer_counts")))

    migrated = offer_rows()
    with engine.begin() as conn:
        recount(conn, LIVE)
    assert offer_rows() == migrated
    years = [row for row in migrated if row[1] == "year" and not row[0]]
    assert [(str(row[2]), row[-1]) for row in years] == [("2025-01-01", 1), ("2026-01-01", 2)]
    engine.dispose()
