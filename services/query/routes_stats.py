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

from fastapi import APIRouter
from sqlalchemy import func, literal, union_all
from sqlmodel import select

from events.types import CountryCode
from services.query.auth import CurrentOfficer
from services.query.deps import SessionDep
from services.query.models import SkillCount, SkillStats, StageCount, StageStats
from services.query.routes_cases import in_jurisdiction
from services.storage.tables import Case, JobOffer

router = APIRouter(prefix="/v1/stats", tags=["stats"])
OFFER_WINDOW = timedelta(days=365)


@router.get("/stages", response_model=StageStats)
def stage_counts(officer: CurrentOfficer, session: SessionDep, destination_country: CountryCode | None = None) -> StageStats:
    """How many cases are in each stage, per destination: who is where now."""
    query = select(Case.destination_country, Case.stage, func.count().label("count")).where(in_jurisdiction(officer))
    if destination_country is not None:
        query = query.where(Case.destination_country == destination_country)
    groups = (Case.destination_country, Case.stage)
    rows = session.exec(query.group_by(*groups).order_by(*(c.asc().nulls_last() for c in groups))).all()
    return StageStats(items=[StageCount.model_validate(r._mapping) for r in rows])


@router.get("/skills", response_model=SkillStats)
def skill_counts(officer: CurrentOfficer, session: SessionDep) -> SkillStats:
    """Per occupation and destination: supply ready to go, demand of the last 365 days, workers deployed."""
    scope = in_jurisdiction(officer)
    cases = (
        select(
            Case.occupation_code, Case.destination_country,
            func.count().filter(Case.stage == "job_ready").label("job_ready"),
            literal(0).label("offers_365d"),
            func.count().filter(Case.stage == "deployed").label("deployed"),
        )
        .where(Case.stage.in_(["job_ready", "deployed"]), scope)
        .group_by(Case.occupation_code, Case.destination_country)
    )
    offers = (
        select(
            JobOffer.occupation_code, JobOffer.destination_country,
            literal(0).label("job_ready"), func.count().label("offers_365d"), literal(0).label("deployed"),
        )
        .where(
            JobOffer.occurred_at >= datetime.now(UTC) - OFFER_WINDOW,
            officer.jurisdiction.where(JobOffer.destination_country, JobOffer.origin_region),
        )
        .group_by(JobOffer.occupation_code, JobOffer.destination_country)
    )
    both = union_all(cases, offers).subquery()
    groups = (both.c.occupation_code, both.c.destination_country)
    rows = session.exec(
        select(
            *groups,
            func.sum(both.c.job_ready).label("job_ready"),
            func.sum(both.c.offers_365d).label("offers_365d"),
            func.sum(both.c.deployed).label("deployed"),
        )
        .group_by(*groups)
        .order_by(*(c.asc().nulls_last() for c in groups))
    ).all()
    return SkillStats(items=[SkillCount.model_validate(r._mapping) for r in rows])
