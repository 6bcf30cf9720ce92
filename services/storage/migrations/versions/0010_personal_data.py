"""Personal data (SPEC section 9): the data key store, and the welfare view's identity, consent
and erasure columns.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

CASE_COLUMNS = ("date_of_birth", "passport_number", "phone", "data_sharing", "erased", "erased_at")


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("case_id", sa.String(length=64), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary()),
        sa.Column("master_key_id", sa.String(length=16)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("date_of_birth", sa.Date()))
        batch.add_column(sa.Column("passport_number", sa.String()))
        batch.add_column(sa.Column("phone", sa.String()))
        batch.add_column(sa.Column("data_sharing", sa.Boolean()))
        # Existing rows are not erased; the default only fills them (the worker always writes it).
        batch.add_column(sa.Column("erased", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name in reversed(CASE_COLUMNS):
            batch.drop_column(name)
    op.drop_table("data_keys")
