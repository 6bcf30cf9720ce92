"""Counts kept by the worker for the stats endpoints: stage_counts, skill_counts, offer_counts.

See services/worker/counts.py for what each row means. The tables are filled here from the
existing cases and job offers (the same keys the worker's deltas use), so an upgraded database
answers the stats endpoints at once without a replay.

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None

COUNT = sa.Column("count", sa.Integer(), nullable=False)


def _key(name: str, length: int | None = None) -> sa.Column:
    return sa.Column(name, sa.String(length) if length else sa.String(), nullable=False, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "stage_counts",
        sa.Column("by_origin", sa.Boolean(), nullable=False, primary_key=True),
        _key("destination_country", 2),
        _key("origin_region"),
        _key("stage"),
        COUNT.copy(),
    )
    op.create_table(
        "skill_counts",
        sa.Column("by_origin", sa.Boolean(), nullable=False, primary_key=True),
        _key("occupation_code", 4),
        _key("destination_country", 2),
        _key("origin_region"),
        _key("stage"),
        COUNT.copy(),
    )
    op.create_table(
        "offer_counts",
        sa.Column("by_origin", sa.Boolean(), nullable=False, primary_key=True),
        _key("grain", 5),
        sa.Column("starts", sa.Date(), nullable=False, primary_key=True),
        _key("occupation_code", 4),
        _key("destination_country", 2),
        _key("origin_region"),
        COUNT.copy(),
    )
    op.create_index("ix_offer_counts_origin", "offer_counts", ["by_origin", "origin_region", "grain", "starts"])
    _fill()


def downgrade() -> None:
    for name in ("offer_counts", "skill_counts", "stage_counts"):
        op.drop_table(name)


def _fill() -> None:
    """Count what the views hold now, in SQL (one pass per level)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    day = "(occurred_at AT TIME ZONE 'UTC')::date" if postgres else "date(occurred_at)"
    month = (
        "date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date"
        if postgres
        else "date(occurred_at, 'start of month')"
    )
    for by_origin, region in (("false", "''"), ("true", "coalesce(origin_region, '')")):
        if not postgres:
            by_origin = "0" if by_origin == "false" else "1"
        op.execute(f"""
            INSERT INTO stage_counts (by_origin, destination_country, origin_region, stage, count)
            SELECT {by_origin}, coalesce(destination_country, ''), {region}, coalesce(stage, ''), count(*)
            FROM cases GROUP BY 2, 3, 4""")
        op.execute(f"""
            INSERT INTO skill_counts (by_origin, occupation_code, destination_country, origin_region, stage, count)
            SELECT {by_origin}, coalesce(occupation_code, ''), coalesce(destination_country, ''), {region}, stage,
                   count(*)
            FROM cases WHERE stage IN ('job_ready', 'deployed') GROUP BY 2, 3, 4, 5""")
        for grain, starts in (("day", day), ("month", month)):
            op.execute(f"""
                INSERT INTO offer_counts (by_origin, grain, starts, occupation_code, destination_country,
                                          origin_region, count)
                SELECT {by_origin}, '{grain}', {starts}, coalesce(occupation_code, ''),
                       coalesce(destination_country, ''), {region}, count(*)
                FROM job_offers GROUP BY 3, 4, 5, 6""")
