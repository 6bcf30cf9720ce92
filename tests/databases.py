"""Scratch PostgreSQL databases for tests: created empty, dropped (even with open connections) on exit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from services.storage.db import make_engine


@contextmanager
def scratch_database(admin_url: str, prefix: str = "passage_test") -> Iterator[str]:
    """Yields the URL of a fresh database on the server of `admin_url` (a URL allowed to CREATE DATABASE)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
