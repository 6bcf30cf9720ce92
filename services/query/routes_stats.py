"""Aggregates for planning and crisis response, computed in SQL within the officer's jurisdiction.

Jurisdiction in stats (SPEC is silent; decided here): a case counts when the officer could read
it (its destination in a `dest:` scope, or its origin_region in an `origin:` scope, or `*`). A job
offer counts when its destination_country is in a `dest:` scope or the origin_region of the
migrant it was made to (copied onto the `job_offers` row by the worker) is in an `origin:` scope:
an origin officer sees the demand reaching their region's workers, a destination officer the
demand from their country. Rows with no destination yet (most job_ready cases) are grouped under
destination_country null.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response
from sqlalchemy import func, literal, select, union_all

from events.types import CountryCode
from services.query.auth import CurrentOfficer
from services.query.deps import DbDep
from services.query.models import SkillCount, SkillStats, StageCount, StageStats, respond
from services.query.routes_cases import in_jurisdiction
from services.query.sql import cases, job_offers

router = APIRouter(prefix="/v1/stats", tags=["stats"])
OFFER_WINDOW = timedelta(days=365)


@router.get("/stages", response_model=StageStats)
def stage_counts(officer: CurrentOfficer, db: DbDep, destination_country: CountryCode | None = None) -> Response:
    """How many cases are in each stage, per destination: who is where now."""
    c = cases.c
    query = select(c.destination_country, c.stage, func.count().label("count")).where(in_jurisdiction(officer))
    if destination_country is not None:
        query = query.where(c.destination_country == destination_country)
    groups = (c.destination_country, c.stage)
    rows = db.execute(query.group_by(*groups).order_by(*(column.asc().nulls_last() for column in groups))).all()
    return respond(StageStats(items=[StageCount.model_validate(r._mapping) for r in rows]))


@router.get("/skills", response_model=SkillStats)
def skill_counts(officer: CurrentOfficer, db: DbDep) -> Response:
    """Per occupation and destination: supply ready to go, demand of the last 365 days, workers deployed."""
    c, o = cases.c, job_offers.c
    supply = (
        select(
            c.occupation_code, c.destination_country,
            func.count().filter(c.stage == "job_ready").label("job_ready"),
            literal(0).label("offers_365d"),
            func.count().filter(c.stage == "deployed").label("deployed"),
        )
        .where(c.stage.in_(["job_ready", "deployed"]), in_jurisdiction(officer))
        .group_by(c.occupation_code, c.destination_country)
    )
    demand = (
        select(
            o.occupation_code, o.destination_country,
            literal(0).label("job_ready"), func.count().label("offers_365d"), literal(0).label("deployed"),
        )
        .where(o.occurred_at >= datetime.now(UTC) - OFFER_WINDOW,
               officer.jurisdiction.where(o.destination_country, o.origin_region))
        .group_by(o.occupation_code, o.destination_country)
    )
    both = union_all(supply, demand).subquery()
    groups = (both.c.occupation_code, both.c.destination_country)
    rows = db.execute(
        select(
            *groups,
            func.sum(both.c.job_ready).label("job_ready"),
            func.sum(both.c.offers_365d).label("offers_365d"),
            func.sum(both.c.deployed).label("deployed"),
        )
        .group_by(*groups)
        .order_by(*(column.asc().nulls_last() for column in groups))
    ).all()
    return respond(SkillStats(items=[SkillCount.model_validate(r._mapping) for r in rows]))
