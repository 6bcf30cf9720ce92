"""The key store table (`data_keys`): load, create, destroy and rewrap case data keys. SQL only.

A row is one of: a live key (wrapped_key and master_key_id set), or an erased case's tombstone
(wrapped_key NULL, erased_at set). No row: the case has no personal data sealed yet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.privacy.keyring import KEY_BYTES, Keyring
from services.storage.tables import DataKey, table_of

data_keys = table_of(DataKey)


@dataclass(frozen=True)
class CaseKey:
    """What a service knows of one case's key: the key itself, or that the case is erased."""

    case_id: str
    key: bytes | None  # None: erased (the key is destroyed)

    @property
    def erased(self) -> bool:
        return self.key is None


def load(conn: Connection, keyring: Keyring, case_ids: Iterable[str]) -> dict[str, CaseKey]:
    """The keys of those of `case_ids` that have a row, unwrapped."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    c = data_keys.c
    rows = conn.execute(select(c.case_id, c.wrapped_key, c.master_key_id).where(c.case_id.in_(ids))).all()
    return {
        row.case_id: CaseKey(
            row.case_id,
            None if row.wrapped_key is None else keyring.unwrap(row.case_id, row.wrapped_key, row.master_key_id),
        )
        for row in rows
    }


def load_or_create(conn: Connection, keyring: Keyring, case_ids: Iterable[str]) -> dict[str, CaseKey]:
    """Every case's key, creating a fresh random key for a case that has no row, in one statement:
    insert-if-absent returning the row that is there (the new one, or the one another writer or
    an erasure left; the no-op update only makes PostgreSQL and SQLite return existing rows)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    fresh = {case_id: os.urandom(KEY_BYTES) for case_id in ids}
    wrapped = {case_id: keyring.wrap(case_id, key) for case_id, key in fresh.items()}
    now = datetime.now(UTC)
    if conn.dialect.name == "postgresql":  # one statement text whatever the count: parsed and planned once
        found = conn.execute(
            _UPSERT_MANY, {"ids": ids, "wrapped": [wrapped[i] for i in ids], "master": keyring.current_id, "now": now}
        ).all()
    else:
        rows = [
            {
                "case_id": case_id,
                "wrapped_key": wrapped[case_id],
                "master_key_id": keyring.current_id,
                "created_at": now,
                "erased_at": None,
            }
            for case_id in ids
        ]
        found = conn.execute(_UPSERT_SQLITE, rows).all()
    keys = {}
    for row in found:
        if row.wrapped_key is None:
            keys[row.case_id] = CaseKey(row.case_id, None)
        elif row.wrapped_key == wrapped.get(row.case_id):  # ours: no need to unwrap what we just wrapped
            keys[row.case_id] = CaseKey(row.case_id, fresh[row.case_id])
        else:
            keys[row.case_id] = CaseKey(row.case_id, keyring.unwrap(row.case_id, row.wrapped_key, row.master_key_id))
    return keys


_UPSERT_MANY = text("""
    INSERT INTO data_keys (case_id, wrapped_key, master_key_id, created_at)
    SELECT new.case_id, new.wrapped_key, :master, :now
    FROM unnest(CAST(:ids AS varchar[]), CAST(:wrapped AS bytea[])) AS new(case_id, wrapped_key)
    ON CONFLICT (case_id) DO UPDATE SET case_id = excluded.case_id
    RETURNING case_id, wrapped_key, master_key_id
""")


def _sqlite_upsert():
    statement = sqlite_insert(data_keys)
    return statement.on_conflict_do_update(
        index_elements=["case_id"], set_={"case_id": statement.excluded.case_id}
    ).returning(data_keys.c.case_id, data_keys.c.wrapped_key, data_keys.c.master_key_id)


_UPSERT_SQLITE = _sqlite_upsert()  # built once: the gateway runs it for every group of new cases


def destroy(conn: Connection, case_ids: Iterable[str], at: datetime) -> None:
    """Crypto-shredding: forget each case's key for good, leaving the erased tombstone (a case
    with no key yet gets the tombstone too, so no key is ever created for it)."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    tombstones = [
        {"case_id": case_id, "wrapped_key": None, "master_key_id": None, "created_at": at, "erased_at": at}
        for case_id in ids
    ]
    conn.execute(_insert(conn).on_conflict_do_nothing(index_elements=["case_id"]), tombstones)
    c = data_keys.c
    conn.execute(
        update(data_keys)
        .where(c.case_id.in_(ids))
        .values(wrapped_key=None, master_key_id=None, erased_at=func.coalesce(c.erased_at, at))
    )


def rewrap_page(conn: Connection, keyring: Keyring, limit: int = 500) -> int:
    """Rewrap up to `limit` live keys not yet under the current master key; returns how many.
    Each row is updated only if it is still as read (compare-and-set on master_key_id), so a
    concurrent rotation or erasure is never overwritten."""
    c = data_keys.c
    rows = conn.execute(
        select(c.case_id, c.wrapped_key, c.master_key_id)
        .where(c.wrapped_key.is_not(None), c.master_key_id != keyring.current_id)
        .order_by(c.case_id)
        .limit(limit)
    ).all()
    for row in rows:
        data_key = keyring.unwrap(row.case_id, row.wrapped_key, row.master_key_id)
        conn.execute(
            update(data_keys)
            .where(c.case_id == row.case_id, c.master_key_id == row.master_key_id)
            .values(wrapped_key=keyring.wrap(row.case_id, data_key), master_key_id=keyring.current_id)
        )
    return len(rows)


def count_by_master_key(conn: Connection) -> dict[str | None, int]:
    """How many rows each master key wraps (None: erased tombstones)."""
    c = data_keys.c
    return {row[0]: row[1] for row in conn.execute(select(c.master_key_id, func.count()).group_by(c.master_key_id))}


def _insert(conn: Connection):
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(data_keys)


def copy_all(source: Connection, target: Connection) -> int:
    """Every key store row of `source` into `target` (rows already there are left as they are):
    what a replay into a second database needs to decrypt, since the key store is not on the log."""
    rows = [dict(row._mapping) for row in source.execute(select(data_keys))]
    for start in range(0, len(rows), 1000):
        target.execute(_insert(target).on_conflict_do_nothing(index_elements=["case_id"]), rows[start : start + 1000])
    return len(rows)


def wrapped_keys(conn: Connection) -> dict[str, tuple[bytes | None, str | None]]:
    """Every row as case_id -> (wrapped_key, master_key_id); (None, None) for an erased case."""
    c = data_keys.c
    return {
        row.case_id: (bytes(row.wrapped_key) if row.wrapped_key is not None else None, row.master_key_id)
        for row in conn.execute(select(c.case_id, c.wrapped_key, c.master_key_id))
    }
