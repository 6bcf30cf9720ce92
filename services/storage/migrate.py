"""Schema migrations with Alembic: `migrate(engine_or_url)` brings the view database to head.

Services call it on start. Several processes may start at once: on PostgreSQL they take turns
under an advisory lock. A database made by `create_all` (tests, first runs before migrations
existed) has the tables but no Alembic version: it is stamped at head when its schema equals the
models, and refused with the differences otherwise.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from services.logs import get_logger
from services.storage.db import make_engine

log = get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x7061_7373  # "pass": one advisory lock id for every Passage migration


class SchemaMismatch(RuntimeError):
    """The database has Passage tables that Alembic does not know and that differ from the models."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration found in {MIGRATIONS}; the installed package is incomplete: reinstall it")
    return head


def schema_differences(connection: Connection) -> list:
    """What Alembic autogenerate would change to make the database match the models ([] = equal):
    tables, columns (types, nullability, server defaults), indexes and constraints, plus what
    autogenerate leaves out, primary keys (`("modify_primary_key", table, found, declared)`)."""
    from services.storage import tables  # noqa: F401  (registers the tables)

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": lambda name, type_, _parents: not (type_ == "table" and name.endswith("_rebuild")),
        },
    )
    ignored = {"alembic_version"}
    differences = [
        diff
        for diff in compare_metadata(context, SQLModel.metadata)
        if not (isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name in ignored)
    ]
    return differences + _primary_key_differences(connection)


def _primary_key_differences(connection: Connection) -> list[tuple[str, str, list[str], list[str]]]:
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    differences = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in present:
            continue  # compare_metadata reports it as a table to add
        found = inspector.get_pk_constraint(table.name)["constrained_columns"]
        declared = [column.name for column in table.primary_key.columns]
        if found != declared:
            differences.append(("modify_primary_key", table.name, found, declared))
    return differences


def migrate(target: Engine | str) -> str:
    """Upgrade the database at `target` to the head revision; returns that revision."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            config = alembic_config(connection)
            _adopt_unversioned(connection, config)
            command.upgrade(config, "head")
    finally:
        if isinstance(target, str):
            engine.dispose()
    return head_revision()


def _adopt_unversioned(connection: Connection, config: Config) -> None:
    names = set(inspect(connection).get_table_names())
    if "alembic_version" in names or "cases" not in names:
        return
    differences = schema_differences(connection)
    if differences:
        raise SchemaMismatch(
            f"the database has Passage tables but no Alembic version, and they differ from the models "
            f"({'; '.join(map(str, differences[:3]))}); migrate it by hand or start from an empty database"
        )
    command.stamp(config, "head")
    log.info("stamped an unversioned database at the head revision", revision=head_revision())
