"""Add rows' numbers to the stored rows with the same key, on PostgreSQL, in one statement whose
text does not depend on the number of rows:

    INSERT INTO t (k1, .., n1, ..) SELECT unnest(:k1), .., unnest(:n1), ..
    ON CONFLICT (k1, ..) DO UPDATE SET n1 = t.n1 + excluded.n1, .. [RETURNING k1, .., n1, ..]

One array parameter per column, so SQLAlchemy compiles it once and psycopg parses it once per
process; a multi-row VALUES (or SQLAlchemy's batched executemany) is a new, long text for each
row count, compiled and parsed again every batch (the counts' upsert alone was about a quarter
of the worker's CPU per event). Rows keep their order, so writers that sort their rows still
lock them in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Executable, Row, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

_STATEMENTS: dict[tuple[Table, tuple[str, ...], tuple[str, ...], bool], Executable] = {}


def add_rows(
    conn: Connection,
    table: Table,
    keys: tuple[str, ...],
    added: tuple[str, ...],
    rows: Sequence[Mapping[str, object]],
    returning: bool = False,
) -> list[Row]:
    """Insert `rows`, or add their `added` columns to the stored row with the same `keys`; with
    `returning`, each row as stored after it (keys, then the added columns)."""
    if not rows:
        return []
    columns = {name: [row[name] for row in rows] for name in (*keys, *added)}
    result = conn.execute(_statement(table, keys, added, returning), columns)
    return list(result) if returning else []


def _statement(table: Table, keys: tuple[str, ...], added: tuple[str, ...], returning: bool) -> Executable:
    cached = _STATEMENTS.get((table, keys, added, returning))
    if cached is not None:
        return cached
    names = (*keys, *added)
    arrays = select(*(func.unnest(bindparam(name, type_=ARRAY(table.c[name].type))).label(name) for name in names))
    insert = pg_insert(table).from_select(list(names), arrays)
    adding = insert.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + insert.excluded[name] for name in added}
    )
    statement: Executable = adding.returning(*(table.c[name] for name in names)) if returning else adding
    _STATEMENTS[(table, keys, added, returning)] = statement
    return statement
