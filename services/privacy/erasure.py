"""Crypto-shredding in the worker's transaction: when a batch folds `case.erasure_requested`,
destroy the case's data key and blank the personal fields the views still hold in clear.

The welfare row is blanked by the domain's fold (`services.domain.welfare`); here, in the same
transaction as that fold: the key (so every sealed record of the case, on the log now or later,
opens as blank), the timeline envelopes' personal fields, and the alerts' officer notes. It runs
in live folds and in `passage replay` alike, so a replay gives the same blanked views.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select, update

from services.privacy import keystore
from services.privacy.fields import personal_fields

ERASURE = "case.erasure_requested"


def erase_cases(conn: Connection, views, delivered: Sequence, now: datetime | None = None) -> set[str]:
    """Erase the cases of `delivered` (the batch's decoded events) that carry an erasure request;
    returns their case ids. `views`: the tables being folded into (live or a replay's shadow)."""
    return erase_case_ids(conn, views, {d.event.case_id for d in delivered if d.event.event_type == ERASURE}, now)


def erase_case_ids(conn: Connection, views, case_ids: set[str], now: datetime | None = None) -> set[str]:
    """Erase `case_ids` (their fold says erased): destroy their keys, blank what the tables hold."""
    if not case_ids:
        return case_ids
    keystore.destroy(conn, case_ids, now or datetime.now(UTC))
    _blank_timeline(conn, views.timeline, case_ids)
    conn.execute(update(views.alerts).where(views.alerts.c.case_id.in_(sorted(case_ids))).values(note=None))
    return case_ids


def _blank_timeline(conn: Connection, timeline, case_ids: set[str]) -> None:
    c = timeline.c
    rows = conn.execute(select(c.event_id, c.event_type, c.envelope).where(c.case_id.in_(sorted(case_ids)))).all()
    changed = []
    for row in rows:
        envelope = row.envelope if isinstance(row.envelope, dict) else None
        payload = envelope.get("payload") if envelope else None
        if not isinstance(payload, dict):
            continue
        names = [name for name in personal_fields(row.event_type) if payload.get(name) is not None]
        if names:
            payload.update(dict.fromkeys(names))
            changed.append({"k_event_id": row.event_id, "envelope": envelope})
    if changed:
        conn.execute(
            update(timeline).where(c.event_id == bindparam("k_event_id")).values(envelope=bindparam("envelope")),
            changed,
        )
