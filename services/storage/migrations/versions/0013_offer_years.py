"""Offer tallies per calendar year (`offer_counts.grain` 'year'), next to the day and month rows,
and an index on skill_counts for officers with an `origin:` scope.

The skills read sums fewer rows with the year rows (services/query/stats_sql.py); the worker
writes them with the others (services/worker/counts.py `count_offer`). Filled here from the month
rows, which hold the same offers, so an upgraded database answers at once; the downgrade deletes
them. The index lets an `origin:` officer's skills read its regions' rows instead of scanning all
of them (about 10,000 at 1,000,000 cases; the count updates stay HOT, `count` is not indexed).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_skill_counts_origin", "skill_counts", ["by_origin", "origin_region"])
    bind = op.get_bind()
    year = "date_trunc('year', starts)::date" if bind.dialect.name == "postgresql" else "date(starts, 'start of year')"
    op.execute(f"""
        INSERT INTO offer_counts (by_origin, grain, starts, occupation_code, destination_country, origin_region, count)
        SELECT by_origin, 'year', {year}, occupation_code, destination_country, origin_region, sum(count)
        FROM offer_counts WHERE grain = 'month'
        GROUP BY by_origin, {year}, occupation_code, destination_country, origin_region""")


def downgrade() -> None:
    op.execute("DELETE FROM offer_counts WHERE grain = 'year'")
    op.drop_index("ix_skill_counts_origin", table_name="skill_counts")
