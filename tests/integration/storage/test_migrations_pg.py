"""Alembic's head revision builds exactly the schema of services/storage/tables.py (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import SQLModel

from services.storage import tables  # noqa: F401  (registers every table on SQLModel.metadata)
from services.storage.db import make_engine
from services.storage.migrate import alembic_config, head_revision, migrate, schema_differences
from services.worker.counts import recount
from services.worker.views import LIVE
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


def test_the_comparison_sees_every_table_index_and_server_default_on_postgresql(empty_database):
    """An empty diff means something only if nothing is left out: drop each of them from a
    database at head, and each one is reported."""
    migrate(empty_database)
    engine = make_engine(empty_database)
    indexes = {index.name for table in SQLModel.metadata.tables.values() for index in table.indexes}
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE cases ALTER COLUMN erased DROP DEFAULT"))
        for name in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        differences = schema_differences(conn)
        assert {diff[1].name for diff in differences if diff[0] == "add_index"} == indexes
        assert [diff[0][:4] for diff in differences if isinstance(diff, list)] == [
            ("modify_default", None, "cases", "erased")
        ]
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE "{table.name}"'))
        added = {diff[1].name for diff in schema_differences(conn) if diff[0] == "add_table"}
        assert added == set(SQLModel.metadata.tables)
    engine.dispose()


def test_the_create_all_test_database_is_adopted(settings):
    migrate(settings.db_url)
    engine = make_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
    engine.dispose()


def test_the_counts_migration_fills_the_counts_from_the_views_there(empty_database):
    """Upgrading a database that already holds cases and offers gives the counts a replay would."""
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
        conn.execute(
            text(
                "INSERT INTO cases (case_id, stage, origin_region, occupation_code, destination_country, wellbeing, "
                "open_alerts, top_severity_rank, event_count, state) VALUES "
                "('C1', 'deployed', 'Kerala', '9111', 'SA', 'ok', 0, 0, 3, '{}'), "
                "('C2', 'job_ready', 'Kerala', '9111', NULL, 'ok', 0, 0, 2, '{}'), "
                "('C3', 'registered', NULL, NULL, NULL, 'ok', 0, 0, 1, '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO job_offers (event_id, case_id, offer_id, occupation_code, destination_country, "
                "origin_region, occurred_at) VALUES (:id, 'C1', 'O1', '9111', 'SA', 'Kerala', :at)"
            ),
            [
                {"id": "E1", "at": datetime(2026, 3, 31, 23, 30, tzinfo=UTC)},
                {"id": "E2", "at": datetime(2026, 4, 1, 0, 30, tzinfo=UTC)},
                {"id": "E3", "at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC)},  # another year (0013)
            ],
        )
    migrate(engine)

    def counts() -> dict:
        with engine.connect() as conn:
            return {table.name: sorted(tuple(row) for row in conn.execute(table.select())) for table in LIVE.counts}

    migrated = counts()
    with engine.begin() as conn:
        recount(conn, LIVE)
    assert counts() == migrated
    assert (False, "SA", "", "deployed", 1) in migrated["stage_counts"]
    assert (False, "year", date(2026, 1, 1), "9111", "SA", "", 2) in migrated["offer_counts"]
    engine.dispose()
