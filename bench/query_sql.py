"""The benchmark's baseline: the statements the query endpoints run (as SQLAlchemy emits them for
a `*` or `dest:XX` officer), executed directly with psycopg on one connection.

The case lookup's three statements are the endpoint's own, compiled from its statement objects
(services/query/sql.py; the case select and the audit row as `services.query.lookup` runs them on
the driver), and run in autocommit, as the query service runs them: the officer, the case joined
to its unresolved alerts, and the audit row. (Until 2026-12-06 this baseline ran the
case and its alerts as two statements inside a transaction: six round trips, BEGIN and COMMIT
included, against the endpoint's four, which flattered the endpoint's ratio.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

from services.query.lookup import AUDIT_SQL, case_sql
from services.query.models import AlertPublic
from services.query.scope import Jurisdiction
from services.query.sql import OFFICER_BY_TOKEN, alerts, fields
from services.secrets import hash_secret

_DIALECT = pg_psycopg.dialect()
OFFICER = str(OFFICER_BY_TOKEN.compile(dialect=_DIALECT))
CASE, CASE_PARAMS = case_sql(Jurisdiction(everything=True))  # its literal ('resolved') is a parameter too
AUDIT = AUDIT_SQL
# The inbox's columns: those the query service reads (every field of the API model the table holds).
ALERT_FIELDS = ", ".join(column.name for column in fields(alerts, AlertPublic))


class Baseline:
    def __init__(self, dsn: str, secret: str) -> None:
        self.conn = psycopg.connect(dsn)
        self.lookup = psycopg.connect(dsn, autocommit=True)  # the case lookup's, as the endpoint's engine
        self.secret = secret

    def _officer(self, cur: psycopg.Cursor, token: str) -> str:
        return cur.execute(OFFICER, {"token_hash": hash_secret(self.secret, token)}).fetchone()[0]

    def case(self, token: str, case_id: str) -> None:
        with self.lookup.cursor() as cur:
            officer_id = self._officer(cur, token)
            cur.execute(CASE, {**CASE_PARAMS, "case_id": case_id}).fetchall()
            audit = {
                "officer_id": officer_id,
                "case_id": case_id,
                "action": "read_case",
                "at": datetime.now(UTC),
                "case_ids": None,
            }
            cur.execute(AUDIT, audit).fetchone()

    def inbox(self, token: str, statuses: list[str] | None, dest: str | None = None) -> None:
        where = [f"destination_country IN ('{dest}')" if dest else "true"]
        if statuses:
            where.append("status IN ({})".format(", ".join(f"'{s}'" for s in statuses)))
        with self.conn.cursor() as cur:
            self._officer(cur, token)
            cur.execute(
                f"SELECT {ALERT_FIELDS}, severity_rank FROM alerts WHERE {' AND '.join(where)} "
                "ORDER BY severity_rank, raised_at, alert_id LIMIT 51"
            ).fetchall()
        self.conn.rollback()

    def stages(self, token: str, dest: str | None, origin: str | None = None) -> None:
        """The aggregate over every case that /v1/stats/stages ran before the worker kept counts."""
        where = f"destination_country IN ('{dest}')" if dest else f"origin_region IN ('{origin}')" if origin else "true"
        with self.conn.cursor() as cur:
            self._officer(cur, token)
            cur.execute(
                f"SELECT destination_country, stage, count(*) AS count FROM cases WHERE {where} "
                "GROUP BY destination_country, stage "
                "ORDER BY destination_country ASC NULLS LAST, stage ASC NULLS LAST"
            ).fetchall()
        self.conn.rollback()

    def skills(self, token: str, dest: str | None, origin: str | None = None) -> None:
        """The aggregate over every case and job offer that /v1/stats/skills ran before."""
        where = f"destination_country IN ('{dest}')" if dest else f"origin_region IN ('{origin}')" if origin else "true"
        with self.conn.cursor() as cur:
            self._officer(cur, token)
            cur.execute(
                "SELECT occupation_code, destination_country, sum(job_ready), sum(offers_365d), sum(deployed) FROM ("
                "SELECT occupation_code, destination_country, count(*) FILTER (WHERE stage = 'job_ready') AS job_ready, "
                "0 AS offers_365d, count(*) FILTER (WHERE stage = 'deployed') AS deployed FROM cases "
                f"WHERE stage IN ('job_ready', 'deployed') AND {where} GROUP BY 1, 2 UNION ALL "
                "SELECT occupation_code, destination_country, 0, count(*), 0 FROM job_offers "
                f"WHERE occurred_at >= now() - interval '365 days' AND {where} GROUP BY 1, 2) AS both_ "
                "GROUP BY 1, 2 ORDER BY 1 ASC NULLS LAST, 2 ASC NULLS LAST"
            ).fetchall()
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()
        self.lookup.close()
