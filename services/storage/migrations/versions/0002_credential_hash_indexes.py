"""Unique indexes on the credential hashes: every gateway and query request looks its caller up
by key_hash / token_hash, which was a table scan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ux_agencies_key_hash", "agencies", ["key_hash"], unique=True)
    op.create_index("ux_officers_token_hash", "officers", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_officers_token_hash", table_name="officers")
    op.drop_index("ux_agencies_key_hash", table_name="agencies")
