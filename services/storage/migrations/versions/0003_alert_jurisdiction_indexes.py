"""Inbox indexes per jurisdiction: alerts by (destination_country | origin_region) in inbox order.

The query service's inbox for a `dest:` or `origin:` officer walks its own slice in inbox order
(severity_rank, raised_at, alert_id). Before, a small destination or region filtered a walk of
the whole inbox: with 300k alerts, a region holding 0.2% of them took 145 ms for its first page, 0.3 ms
with the index (EXPLAIN ANALYZE, bench/query.py data).
ix_alerts_dest had status second, which served only single-status filters; it is rebuilt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INBOX_ORDER = ["severity_rank", "raised_at", "alert_id"]


def upgrade() -> None:
    op.drop_index("ix_alerts_dest", table_name="alerts")
    op.create_index("ix_alerts_dest", "alerts", ["destination_country", *INBOX_ORDER])
    op.create_index("ix_alerts_origin", "alerts", ["origin_region", *INBOX_ORDER])


def downgrade() -> None:
    op.drop_index("ix_alerts_origin", table_name="alerts")
    op.drop_index("ix_alerts_dest", table_name="alerts")
    op.create_index("ix_alerts_dest", "alerts", ["destination_country", "status", "severity_rank", "raised_at"])
