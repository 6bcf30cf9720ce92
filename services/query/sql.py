"""The tables as SQLAlchemy Core, and the statements the routes start from, built once.

The query service only reads the views (and appends audit rows), so it uses Core rather than the
ORM: entity loading, unit-of-work flushes and rebuilding a 23-column select on every request cost
two to three times the CPU per statement (measured in bench/query.py's setting), and the case
lookup is the hot path. Rows come back as named tuples; the routes turn them into response models.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Column, Table, select

from services.query.models import AlertPublic, CasePublic
from services.storage.tables import Alert, AuditEntry, Case, JobOffer, Officer, TimelineEvent

cases: Table = Case.__table__
alerts: Table = Alert.__table__
timeline: Table = TimelineEvent.__table__
audit: Table = AuditEntry.__table__
officers: Table = Officer.__table__
job_offers: Table = JobOffer.__table__


def fields(table: Table, model: type[BaseModel]) -> list[Column]:
    """The table's columns named like the model's fields (the folded `state` never leaves)."""
    return [table.c[name] for name in model.model_fields if name in table.c]


SELECT_CASES = select(*fields(cases, CasePublic))
SELECT_ALERTS = select(*fields(alerts, AlertPublic))
INBOX_ORDER = (alerts.c.severity_rank, alerts.c.raised_at, alerts.c.alert_id)
SELECT_OFFICER = select(officers.c.id, officers.c.role, officers.c.scopes, officers.c.disabled)
