"""Scorecards and watchlist (SPEC section 12): `party_cases` (one row per case and employer or
recruiting agent, kept by the worker), `party_stats` and `party_wage_gaps` (aggregates per party,
destination and origin region) and `watchlist` (every watchlist event, as history).

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def _s(length: int | None = None) -> sa.String:
    return sa.String(length=length)


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def _slice_columns() -> list[sa.Column]:
    """The key of an aggregate row: party, destination, origin region ('' when unknown)."""
    return [
        sa.Column("party_kind", _s(32), primary_key=True),
        sa.Column("party_id", _s(128), primary_key=True),
        sa.Column("destination_country", _s(2), primary_key=True),
        sa.Column("origin_region", _s(), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "party_cases",
        sa.Column("case_id", _s(64), primary_key=True),
        sa.Column("party_kind", _s(32), primary_key=True),
        sa.Column("party_id", _s(128), primary_key=True),
        sa.Column("destination_country", _s(2)),
        sa.Column("origin_region", _s()),
        *(_count(name) for name in ("placed", "abuse", "wages", "contract", "fees", "open_critical")),
        sa.Column("wage_paid_pct", sa.Float()),
    )
    op.create_index("ix_party_cases_party", "party_cases", ["party_kind", "party_id", "destination_country"])
    op.create_table(
        "watchlist",
        sa.Column("event_id", _s(36), primary_key=True),
        sa.Column("party_kind", _s(32), nullable=False),
        sa.Column("party_id", _s(128), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("reason", _s()),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_agency_id", _s()),
        sa.Column("envelope", sa.JSON(), nullable=False),
    )
    op.create_index("ix_watchlist_party", "watchlist", ["party_kind", "party_id", "recorded_at"])
    op.create_table(
        "party_stats",
        *_slice_columns(),
        *(_count(name) for name in ("cases", "placed", "abuse", "wages", "contract", "fees", "open_critical")),
    )
    op.create_table(
        "party_wage_gaps",
        *_slice_columns(),
        sa.Column("bucket", sa.Integer(), primary_key=True, autoincrement=False),
        _count("cases"),
    )


def downgrade() -> None:
    op.drop_table("party_wage_gaps")
    op.drop_table("party_stats")
    op.drop_index("ix_watchlist_party", table_name="watchlist")
    op.drop_table("watchlist")
    op.drop_index("ix_party_cases_party", table_name="party_cases")
    op.drop_table("party_cases")
