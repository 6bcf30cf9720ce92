"""Aggregates for planning and crisis response, within the officer's jurisdiction.

They read the counts the worker keeps in the same transaction as the cases
(services/worker/counts.py, statements in `stats_sql`), not the cases: a few thousand rows
whatever the size of the registry. offers_365d counts the offers of the last 366 UTC days, today
included (the window's edge is explained in services/worker/counts.py).

Jurisdiction in stats (SPEC is silent; decided here): a case counts when the officer could read
it (its destination in a `dest:` scope, or its origin_region in an `origin:` scope, or `*`). A job
offer counts when its destination_country is in a `dest:` scope or the origin_region of the
migrant it was made to (copied onto the `job_offers` row by the worker) is in an `origin:` scope:
an origin officer sees the demand reaching their region's workers, a destination officer the
demand from their country. Rows with no destination yet (most job_ready cases) are grouped under
destination_country null.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic_core import to_json
from sqlalchemy.engine import Connection

from events.types import CountryCode
from services.query import stats_sql
from services.query.auth import CallerDep, Principal, authenticate
from services.query.deps import Db, ViewConnection
from services.query.models import SkillStats, StageStats

router = APIRouter(prefix="/v1/stats", tags=["stats"])


@router.get("/stages", response_model=StageStats, name="stage_counts")
def get_stage_counts(caller: CallerDep, destination_country: CountryCode | None = None) -> Response:
    """How many cases are in each stage, per destination: who is where now."""
    with ViewConnection(caller.clients.engine) as db:  # one thread hop, one connection (services.query.deps)
        return stage_counts(authenticate(db, caller.token), db, destination_country)


@router.get("/skills", response_model=SkillStats, name="skill_counts")
def get_skill_counts(caller: CallerDep) -> Response:
    """Per occupation and destination: supply ready to go, demand of the last 365 days, workers deployed."""
    with ViewConnection(caller.clients.engine) as db:
        return skill_counts(authenticate(db, caller.token), db)


# The work of each route, also called by the console (services/console/pages_stats.py). No
# pydantic model is built for the answer: on PostgreSQL the server writes the rows as JSON
# (`stats_sql.as_json`); elsewhere (SQLite) they are written as they come, every column already a
# plain str, None or int (PostgreSQL sums the integer counts as bigints; the skills' sums of sums
# are cast back from numeric). Validating them again only cost time: 320 rows for a `*` officer's
# skills, about a quarter of the service's CPU per request (same-run A/B). `response_model=` on
# each route still documents the answer, and the query contract (tests/query_contract.py, run on
# SQLite and PostgreSQL) holds each answer to its model. `Row._asdict` is twice as slow as zipping
# the column names.


def stage_counts(officer: Principal, db: Db, destination_country: str | None = None) -> Response:
    return _items(db, stats_sql.stages(officer.jurisdiction, destination_country))


def skill_counts(officer: Principal, db: Db) -> Response:
    return _items(db, stats_sql.skills(officer.jurisdiction, datetime.now(UTC)))


def _items(db: Db, query: stats_sql.Query) -> Response:
    statement, params = query
    dialect = db.dialect if isinstance(db, Connection) else db.get_bind().dialect
    if dialect.name == "postgresql":
        rows = db.execute(stats_sql.as_json(statement), params).scalar_one()
        return Response(b'{"items":' + rows.encode() + b"}", media_type="application/json")
    result = db.execute(statement, params)
    names = tuple(result.keys())
    items = [dict(zip(names, row, strict=True)) for row in result]
    return Response(to_json({"items": items}), media_type="application/json")
