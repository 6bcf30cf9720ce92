"""Case work (SPEC section 10): assignment and referrals on cases, escalation on alerts.

cases.assigned_officer_id (indexed with case_id: `GET /v1/cases?assigned_to=` walks its own
slice in list order, and the inbox's `assigned_to` filter reads it as a subquery), cases.referrals
(JSON, the case's referrals with their history), alerts.recorded_at (when Passage recorded the
event that raised the alert: escalation counts from it) and alerts.escalated_at.
Existing rows get NULLs; `passage replay` fills them from the log.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assigned_officer_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("referrals", sa.JSON(), nullable=True))
    op.create_index("ix_cases_assigned", "cases", ["assigned_officer_id", "case_id"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("recorded_at")
    op.drop_index("ix_cases_assigned", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("referrals")
        batch.drop_column("assigned_officer_id")
