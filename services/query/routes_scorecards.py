"""Employer and recruiting-agent scorecards (SPEC section 12), summed from the worker's
`party_cases` rows within the officer's jurisdiction; the arithmetic is `services.domain.scorecards`.

Jurisdiction (SPEC is silent on origin scopes; decided here): a scorecard counts the cases the
officer could read, as the other stats do: a `dest:` officer sees each employer and agent through
the cases bound for their countries, an `origin:` officer through the cases of their regions (how
the employers and agents treat their region's workers), `*` everything. `watchlisted` is the
party's current watchlist status, the same for everyone. Items are ordered by party id.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from events.types import CountryCode
from services.domain.scorecards import CATEGORIES, Scorecard, finish
from services.domain.watchlist import AGENT, EMPLOYER, Entry, Watchlist
from services.query.auth import CurrentOfficer
from services.query.deps import DbDep
from services.query.models import respond
from services.query.scope import Jurisdiction
from services.storage.tables import PartyCase, WatchlistEntry

router = APIRouter(prefix="/v1/stats", tags=["stats"])
party_cases: Table = PartyCase.__table__
watchlist: Table = WatchlistEntry.__table__
MinPlacements = Annotated[int, Query(ge=0, le=1_000_000_000, description="only parties with at least this many placements")]


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
def employer_scorecards(officer: CurrentOfficer, db: DbDep, destination_country: CountryCode | None = None,
                        min_placements: MinPlacements = 0) -> Response:
    """Per employer within scope: placements, alerts per 100 placements, median wage gap, watchlist."""
    cards = scorecards(db, officer.jurisdiction, EMPLOYER, destination_country, min_placements)
    return respond(EmployerScorecards(items=[EmployerScorecard(employer_id=party_id, **figures)
                                             for party_id, figures in cards]))


@router.get("/agents", response_model=AgentScorecards)
def agent_scorecards(officer: CurrentOfficer, db: DbDep, destination_country: CountryCode | None = None,
                     min_placements: MinPlacements = 0) -> Response:
    """Per recruiting agent within scope: the same figures as for employers."""
    cards = scorecards(db, officer.jurisdiction, AGENT, destination_country, min_placements)
    return respond(AgentScorecards(items=[AgentScorecard(recruiting_agent_id=party_id, **figures)
                                          for party_id, figures in cards]))


def scorecards(db: Session, jurisdiction: Jurisdiction, kind: str, destination_country: str | None,
               min_placements: int) -> list[tuple[str, dict]]:
    """(party_id, figures) per party of `kind`, in party_id order: one grouped query (plus, on
    SQLite, which has no percentile_cont, one for the wage gaps)."""
    postgres = db.get_bind().dialect.name == "postgresql"
    scope = _scope(jurisdiction, kind, destination_country)
    rows = db.execute(scorecard_query(scope, min_placements, postgres)).all()
    medians = {row.party_id: row.median for row in rows} if postgres else _medians(db, scope)
    listed = {party_id for party_kind, party_id in _watchlist(db).listed_now() if party_kind == kind}
    return [(row.party_id, _figures(row, medians.get(row.party_id), row.party_id in listed)) for row in rows]


def _scope(jurisdiction: Jurisdiction, kind: str, destination_country: str | None) -> list:
    pc = party_cases.c
    scope = [pc.party_kind == kind, jurisdiction.where(pc.destination_country, pc.origin_region)]
    if destination_country is not None:
        scope.append(pc.destination_country == destination_country)
    return scope


def scorecard_query(scope: list, min_placements: int, postgres: bool) -> Select:
    """The one grouped statement (bench/scorecards.py times it alone as the baseline)."""
    pc = party_cases.c
    median = (func.percentile_cont(0.5).within_group(pc.wage_paid_pct) if postgres else func.min(None)).label("median")
    sums = [func.sum(pc[name]).label(name) for name in (*CATEGORIES, "placed", "open_critical")]
    return (select(pc.party_id, *sums, median).where(*scope).group_by(pc.party_id)
            .having(func.sum(pc.placed) >= min_placements).order_by(pc.party_id))


def _figures(row, median: float | None, watchlisted: bool) -> dict:
    card: Scorecard = finish(int(row.placed), {name: int(row._mapping[name]) for name in CATEGORIES},
                             float(median) if median is not None else None, int(row.open_critical))
    return {**card.__dict__, "watchlisted": watchlisted}


def _medians(db: Session, scope: list) -> dict[str, float]:
    pc = party_cases.c
    gaps: dict[str, list[float]] = defaultdict(list)
    for party_id, gap in db.execute(select(pc.party_id, pc.wage_paid_pct).where(*scope, pc.wage_paid_pct.is_not(None))):
        gaps[party_id].append(gap)
    return {party_id: statistics.median(values) for party_id, values in gaps.items()}


def _watchlist(db: Session) -> Watchlist:
    w = watchlist.c
    rows = db.execute(select(w.recorded_at, w.event_id, w.party_kind, w.party_id, w.listed))
    return Watchlist(tuple(Entry(*row) for row in rows))
