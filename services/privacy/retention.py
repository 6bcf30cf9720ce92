"""Retention (SPEC section 9): with PASSAGE_RETENTION_DAYS set, the sweep requests erasure
(officer_id `system`) of cases returned more than that many days ago and not erased yet.

The request is an ordinary `case.erasure_requested` event, so the erasing happens where every
erasure happens (the worker's fold) and a replay repeats it. Its event_id derives from the case
id, so a case swept twice before the first request is folded is still erased once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.storage.tables import Case, table_of

RETENTION_NAMESPACE = UUID("5d0f3c1e-7a2b-4e6f-9c41-0b8e2d7a9f13")
PAGE = 1000
cases = table_of(Case)


def due_for_erasure(engine: Engine, days: int, now: datetime) -> Iterator[str]:
    """Case ids returned before `now - days` and not erased, in case_id order."""
    c = cases.c
    after = ""
    while True:
        query = (
            select(c.case_id)
            .where(
                c.stage == "returned",
                c.returned_at < now - timedelta(days=days),
                c.erased.is_(False),
                c.case_id > after,
            )
            .order_by(c.case_id)
            .limit(PAGE)
        )
        with engine.connect() as connection:
            page = list(connection.execute(query).scalars())
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]


def erasure_request(case_id: str, days: int, now: datetime, source: dict) -> dict:
    """The stamped `case.erasure_requested` record (as data) the sweep publishes for `case_id`."""
    return {
        "event_id": str(uuid5(RETENTION_NAMESPACE, case_id)),
        "event_type": "case.erasure_requested",
        "schema_version": 1,
        "case_id": case_id,
        "occurred_at": now.isoformat(),
        "correlation_id": None,
        "payload": {"officer_id": "system", "reason": f"retention: returned more than {days} days ago"},
        "recorded_at": now.isoformat(),
        "source": source,
    }
