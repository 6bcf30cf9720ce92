"""The tables as SQLAlchemy Core, and the statements the routes start from, built once.

The query service only reads the views (and appends audit rows), so it uses Core rather than the
ORM: entity loading, unit-of-work flushes and rebuilding a 23-column select on every request cost
two to three times the CPU per statement (measured in bench/query.py's setting), and the case
lookup is the hot path. Rows come back as named tuples; the routes turn them into response models.

Statements a route runs on every request are built here once, with bind parameters, and per
jurisdiction through `per_jurisdiction`: a statement object that is reused keeps its SQLAlchemy
cache key, so a request neither rebuilds the expression nor hashes it again (together about a
quarter of a case lookup's CPU when every request built its own).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import Column, Select, Table, and_, bindparam, insert, select

from services.query.models import AlertPublic, CasePublic
from services.query.scope import Jurisdiction
from services.storage.tables import Alert, AuditEntry, Case, JobOffer, Officer, TimelineEvent, table_of

cases: Table = table_of(Case)
alerts: Table = table_of(Alert)
timeline: Table = table_of(TimelineEvent)
audit: Table = table_of(AuditEntry)
officers: Table = table_of(Officer)
job_offers: Table = table_of(JobOffer)


def fields(table: Table, model: type[BaseModel]) -> list[Column]:
    """The table's columns named like the model's fields (the folded `state` never leaves)."""
    return [table.c[name] for name in model.model_fields if name in table.c]


SELECT_CASES = select(*fields(cases, CasePublic))
SELECT_ALERTS = select(*fields(alerts, AlertPublic))
INBOX_ORDER = (alerts.c.severity_rank, alerts.c.raised_at, alerts.c.alert_id)
SELECT_OFFICER = select(officers.c.id, officers.c.role, officers.c.scopes, officers.c.disabled)
OFFICER_BY_TOKEN = SELECT_OFFICER.where(officers.c.token_hash == bindparam("token_hash"))
AUDIT_ENTRY = insert(audit)

ALERT_PREFIX = "alert_"  # CASE_WITH_ALERTS labels the alert columns so they do not clash with the case's
CASE_WITH_ALERTS = (
    SELECT_CASES.add_columns(
        cases.c.referrals, *(column.label(ALERT_PREFIX + column.name) for column in fields(alerts, AlertPublic))
    )
    .select_from(cases.outerjoin(alerts, and_(alerts.c.case_id == cases.c.case_id, alerts.c.status != "resolved")))
    .where(cases.c.case_id == bindparam("case_id"))
    .order_by(*INBOX_ORDER)
)


def per_jurisdiction(base: Select, table: Table) -> Callable[[Jurisdiction], Select]:
    """`base` narrowed to a jurisdiction (on `table`'s destination and origin columns), built once
    per distinct jurisdiction."""

    @lru_cache(maxsize=512)
    def narrowed(jurisdiction: Jurisdiction) -> Select:
        return base.where(jurisdiction.where(table.c.destination_country, table.c.origin_region))

    return narrowed
