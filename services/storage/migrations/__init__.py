"""Alembic migrations of the view database; run them with `services.storage.migrate.migrate`."""
