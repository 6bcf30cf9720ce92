"""Hardening (issue 13): an employer id per agency, audit rows for pages and refused reads,
officer action idempotency keys and once-only claims.

- agencies.employer_id: the employer an employer agency publishes as (SPEC section 4a).
- audit.case_id becomes nullable and audit.case_ids is added: a page of /v1/cases or /v1/alerts
  is one audit row holding the case_ids it returned.
- officer_action_keys: the answer to an officer action per (officer_id, Idempotency-Key).
- officer_action_claims: one row per (subject, action), e.g. (alert_id, resolve); concurrent
  actions race on its primary key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("employer_id", sa.String(length=128), nullable=True))
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("case_id", existing_type=sa.String(), nullable=True)
        batch.add_column(sa.Column("case_ids", sa.JSON(), nullable=True))
    op.create_table(
        "officer_action_keys",
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("officer_id", "key"),
    )
    op.create_table(
        "officer_action_claims",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", "action"),
    )


def downgrade() -> None:
    op.drop_table("officer_action_claims")
    op.drop_table("officer_action_keys")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("case_ids")
        batch.alter_column("case_id", existing_type=sa.String(), nullable=False)
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("employer_id")
