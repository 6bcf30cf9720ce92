"""Alembic revisions, oldest first (0001 is the initial schema)."""
