"""Alembic environment: the target metadata is every SQLModel table of `services.storage.tables`.

`migrate()` passes its open connection in `config.attributes["connection"]`; the alembic command
line builds an engine from Settings instead.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from services.storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names) -> bool:
    # Replay's shadow tables live next to the views for a while; they are not part of the schema.
    return not (type_ == "table" and name and name.endswith("_rebuild"))


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from services.config import get_settings
    from services.storage.db import make_engine

    engine = make_engine(get_settings())
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run()
