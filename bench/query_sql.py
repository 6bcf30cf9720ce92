"""The benchmark's baseline: the statements the query endpoints run (as SQLAlchemy emits them for
a `*` or `dest:XX` officer), executed directly with psycopg on one connection."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from services.query.models import AlertPublic, CasePublic
from services.query.sql import alerts, cases, fields
from services.secrets import hash_secret

OFFICER = "SELECT id, role, scopes, token_hash, created_at, disabled FROM officers WHERE token_hash = %s"
# The columns the query service reads (services.query.sql.fields: every field of the API models
# the table holds), so the baseline fetches what Passage fetches as the models gain fields.
CASE_FIELDS = ", ".join(column.name for column in fields(cases, CasePublic))
CASE = f"SELECT {CASE_FIELDS} FROM cases WHERE case_id = %s AND true"
ALERT_FIELDS = ", ".join(column.name for column in fields(alerts, AlertPublic))
CASE_ALERTS = (
    f"SELECT {ALERT_FIELDS} FROM alerts WHERE case_id = %s AND status != 'resolved' "
    "ORDER BY severity_rank, raised_at, alert_id"
)
AUDIT = "INSERT INTO audit (officer_id, case_id, action, at) VALUES (%s, %s, 'read_case', %s) RETURNING id"


class Baseline:
    def __init__(self, dsn: str, secret: str) -> None:
        self.conn = psycopg.connect(dsn)
        self.secret = secret

    def _officer(self, cur: psycopg.Cursor, token: str) -> str:
        return cur.execute(OFFICER, (hash_secret(self.secret, token),)).fetchone()[0]

    def case(self, token: str, case_id: str) -> None:
        with self.conn.cursor() as cur:
            officer_id = self._officer(cur, token)
            cur.execute(CASE, (case_id,)).fetchone()
            cur.execute(CASE_ALERTS, (case_id,)).fetchall()
            cur.execute(AUDIT, (officer_id, case_id, datetime.now(UTC))).fetchone()
        self.conn.commit()

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
