"""Initial schema: the views (cases, timeline, alerts, job_offers, alert_outbox), the registries
(agencies, officers) and the audit trail, as in services/storage/tables.py.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _s(length: int | None = None) -> sa.String:
    return sa.String(length=length)


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", _s(64), primary_key=True),
        sa.Column("stage", _s()),
        sa.Column("stage_since", _tz()),
        sa.Column("given_name", _s()),
        sa.Column("family_name", _s()),
        sa.Column("nationality", _s(2)),
        sa.Column("origin_region", _s()),
        sa.Column("occupation_code", _s(4)),
        sa.Column("destination_country", _s(2)),
        sa.Column("employer_id", _s()),
        sa.Column("contract", sa.JSON()),
        sa.Column("departed_at", _tz()),
        sa.Column("arrived_at", _tz()),
        sa.Column("last_wage_period", _s()),
        sa.Column("last_wage_at", _tz()),
        sa.Column("last_welfare_check_at", _tz()),
        sa.Column("wellbeing", _s(), nullable=False),
        sa.Column("open_alerts", sa.Integer(), nullable=False),
        sa.Column("top_severity", _s()),
        sa.Column("top_severity_rank", sa.Integer(), nullable=False),
        sa.Column("returned_at", _tz()),
        sa.Column("return_reason", _s()),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_at", _tz()),
        sa.Column("next_deadline", _tz()),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_index("ix_cases_dest_stage", "cases", ["destination_country", "stage", "case_id"])
    op.create_index("ix_cases_origin_stage", "cases", ["origin_region", "stage", "case_id"])
    op.create_index("ix_cases_stage", "cases", ["stage", "case_id"])
    op.create_index("ix_cases_next_deadline", "cases", ["next_deadline"])
    op.create_index("ix_cases_occupation_stage", "cases", ["occupation_code", "stage"])

    op.create_table(
        "timeline",
        sa.Column("event_id", _s(36), primary_key=True),
        sa.Column("case_id", _s(64), nullable=False),
        sa.Column("event_type", _s(), nullable=False),
        sa.Column("occurred_at", _tz(), nullable=False),
        sa.Column("recorded_at", _tz()),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("topic_partition", sa.Integer()),
        sa.Column("topic_offset", sa.Integer()),
    )
    op.create_index("ix_timeline_case_order", "timeline", ["case_id", "occurred_at", "recorded_at", "event_id"])

    op.create_table(
        "alerts",
        sa.Column("alert_id", _s(36), primary_key=True),
        sa.Column("case_id", _s(64), nullable=False),
        sa.Column("code", _s(), nullable=False),
        sa.Column("severity", _s(), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("status", _s(), nullable=False),
        sa.Column("raised_at", _tz(), nullable=False),
        sa.Column("trigger_event_id", _s()),
        sa.Column("acknowledged_by", _s()),
        sa.Column("acknowledged_at", _tz()),
        sa.Column("resolved_by", _s()),
        sa.Column("resolved_at", _tz()),
        sa.Column("note", _s()),
        sa.Column("destination_country", _s()),
        sa.Column("origin_region", _s()),
    )
    op.create_index("ix_alerts_inbox", "alerts", ["status", "severity_rank", "raised_at", "alert_id"])
    op.create_index("ix_alerts_inbox_all", "alerts", ["severity_rank", "raised_at", "alert_id"])
    op.create_index("ix_alerts_case", "alerts", ["case_id", "code"])
    op.create_index("ix_alerts_dest", "alerts", ["destination_country", "status", "severity_rank", "raised_at"])

    op.create_table(
        "job_offers",
        sa.Column("event_id", _s(36), primary_key=True),
        sa.Column("case_id", _s(64), nullable=False),
        sa.Column("offer_id", _s(), nullable=False),
        sa.Column("occupation_code", _s(), nullable=False),
        sa.Column("destination_country", _s(), nullable=False),
        sa.Column("origin_region", _s()),
        sa.Column("occurred_at", _tz(), nullable=False),
    )
    op.create_index("ix_job_offers_made", "job_offers", ["occurred_at", "occupation_code", "destination_country"])

    op.create_table(
        "alert_outbox",
        sa.Column("id", _s(36), primary_key=True),
        sa.Column("case_id", _s(64), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
    )
    op.create_index("ix_alert_outbox_created", "alert_outbox", ["created_at"])

    op.create_table(
        "agencies",
        sa.Column("id", _s(64), primary_key=True),
        sa.Column("kind", _s(), nullable=False),
        sa.Column("key_hash", _s(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "officers",
        sa.Column("id", _s(64), primary_key=True),
        sa.Column("role", _s(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("token_hash", _s(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("officer_id", _s(), nullable=False),
        sa.Column("case_id", _s(), nullable=False),
        sa.Column("action", _s(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
    )
    op.create_index("ix_audit_case", "audit", ["case_id", "id"])
    op.create_index("ix_audit_officer", "audit", ["officer_id", "id"])


def downgrade() -> None:
    for table in ("audit", "officers", "agencies", "alert_outbox", "job_offers", "alerts", "timeline", "cases"):
        op.drop_table(table)
