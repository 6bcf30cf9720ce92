"""Employer and recruiting-agent scorecards (SPEC section 12), summed from the worker's aggregate
rows (`party_stats`, `party_wage_gaps`: per party, destination and origin region) within the
officer's jurisdiction; the arithmetic is `services.domain.scorecards`.

Jurisdiction (SPEC is silent on origin scopes; decided here): a scorecard counts the cases the
officer could read, as the other stats do: a `dest:` officer sees each employer and agent through
the cases bound for their countries, an `origin:` officer through the cases of their regions (how
the employers and agents treat their region's workers), `*` everything. `watchlisted` is the
party's current watchlist status, the same for everyone. Items are ordered by party id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, Table, case, func, select
from sqlalchemy.orm import Session

from events.types import CountryCode
from services.domain.scorecards import CATEGORIES, Scorecard, finish
from services.domain.watchlist import AGENT, EMPLOYER, Entry, Watchlist
from services.query.auth import CurrentOfficer
from services.query.deps import DbDep
from services.query.models import respond
from services.query.scope import Jurisdiction
from services.storage.tables import PartyStats, PartyWageGap, WatchlistEntry, table_of

router = APIRouter(prefix="/v1/stats", tags=["stats"])
party_stats: Table = table_of(PartyStats)
party_wage_gaps: Table = table_of(PartyWageGap)
watchlist: Table = table_of(WatchlistEntry)
MinPlacements = Annotated[
    int, Query(ge=0, le=1_000_000_000, description="only parties with at least this many placements")
]


class ScorecardFigures(BaseModel):
    placements: int
    abuse_per_100: float | None
    wages_per_100: float | None
    contract_per_100: float | None
    fees_per_100: float | None
    median_wage_gap: float | None  # % of the contracted wage actually paid (median over the cases)
    open_critical_alerts: int
    watchlisted: bool


class EmployerScorecard(ScorecardFigures):
    employer_id: str


class AgentScorecard(ScorecardFigures):
    recruiting_agent_id: str


class EmployerScorecards(BaseModel):
    items: list[EmployerScorecard]


class AgentScorecards(BaseModel):
    items: list[AgentScorecard]


@router.get("/employers", response_model=EmployerScorecards)
def employer_scorecards(
    officer: CurrentOfficer,
    db: DbDep,
    destination_country: CountryCode | None = None,
    min_placements: MinPlacements = 0,
) -> Response:
    """Per employer within scope: placements, alerts per 100 placements, median wage gap, watchlist."""
    cards = scorecards(db, officer.jurisdiction, EMPLOYER, destination_country, min_placements or 0)
    return respond(
        EmployerScorecards(items=[EmployerScorecard(employer_id=party_id, **figures) for party_id, figures in cards])
    )


@router.get("/agents", response_model=AgentScorecards)
def agent_scorecards(
    officer: CurrentOfficer,
    db: DbDep,
    destination_country: CountryCode | None = None,
    min_placements: MinPlacements = 0,
) -> Response:
    """Per recruiting agent within scope: the same figures as for employers."""
    cards = scorecards(db, officer.jurisdiction, AGENT, destination_country, min_placements or 0)
    return respond(
        AgentScorecards(items=[AgentScorecard(recruiting_agent_id=party_id, **figures) for party_id, figures in cards])
    )


def scorecards(
    db: Session, jurisdiction: Jurisdiction, kind: str, destination_country: str | None, min_placements: int
) -> list[tuple[str, dict]]:
    """(party_id, figures) per party of `kind` with a case in scope, in party_id order: two grouped
    statements over the worker's aggregate rows (counts, and the wage-gap histograms)."""
    rows = db.execute(
        scorecard_query(_scope(party_stats, jurisdiction, kind, destination_country), min_placements)
    ).all()
    medians = dict(db.execute(median_query(_scope(party_wage_gaps, jurisdiction, kind, destination_country))).all())
    listed = {party_id for party_kind, party_id in _watchlist(db).listed_now() if party_kind == kind}
    return [(row.party_id, _figures(row, medians.get(row.party_id), row.party_id in listed)) for row in rows]


def _scope(table: Table, jurisdiction: Jurisdiction, kind: str, destination_country: str | None) -> list:
    columns = table.c
    scope = [columns.party_kind == kind, jurisdiction.where(columns.destination_country, columns.origin_region)]
    if destination_country is not None:
        scope.append(columns.destination_country == destination_country)
    return scope


def scorecard_query(scope: list, min_placements: int) -> Select:
    """The counts per party (bench/scorecards.py times it alone as the baseline)."""
    ps = party_stats.c
    sums = [func.sum(ps[name]).label(name) for name in (*CATEGORIES, "placed", "open_critical")]
    return (
        select(ps.party_id, *sums)
        .where(*scope)
        .group_by(ps.party_id)
        .having(func.sum(ps.cases) > 0, func.sum(ps.placed) >= min_placements)
        .order_by(ps.party_id)
    )


def median_query(scope: list) -> Select:
    """(party_id, median bucket) from the summed histograms: the bucket holding the middle case, or
    the mean of the two holding the middle pair (`scorecards.bucket_median`, in SQL)."""
    g = party_wage_gaps.c
    summed = (
        select(g.party_id, g.bucket, func.sum(g.cases).label("n"))
        .where(*scope)
        .group_by(g.party_id, g.bucket)
        .having(func.sum(g.cases) > 0)
        .subquery()
    )
    running = select(
        summed.c.party_id,
        summed.c.bucket,
        func.sum(summed.c.n).over(partition_by=summed.c.party_id, order_by=summed.c.bucket).label("seen"),
        func.sum(summed.c.n).over(partition_by=summed.c.party_id).label("total"),
    ).subquery()
    low = func.min(case((2 * running.c.seen >= running.c.total, running.c.bucket)))
    high = func.min(case((2 * running.c.seen > running.c.total, running.c.bucket)))
    return select(running.c.party_id, ((low + high) / 2.0).label("median")).group_by(running.c.party_id)


def _figures(row, median: float | None, watchlisted: bool) -> dict:
    card: Scorecard = finish(
        int(row.placed),
        {name: int(row._mapping[name]) for name in CATEGORIES},
        float(median) if median is not None else None,
        int(row.open_critical),
    )
    return {**card.__dict__, "watchlisted": watchlisted}


def _watchlist(db: Session) -> Watchlist:
    w = watchlist.c
    rows = db.execute(select(w.recorded_at, w.event_id, w.party_kind, w.party_id, w.listed))
    return Watchlist(tuple(Entry(*row) for row in rows))
