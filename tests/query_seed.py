"""A small world for the query API tests, written straight into the view tables (as the worker would).

Cases (destination / origin / stage):
  SA-0001  SA / Kerala / deployed  (9111)  alerts: A-DIST critical open, A-UNDER high acknowledged,
                                            A-FEE medium resolved; three timeline events
  SA-0002  SA / Bihar  / recruiting (7112)
  AE-0001  AE / Kerala / deployed  (9111)  alerts: A-PASS high open (the oldest open one)
  QA-0001  QA / Punjab / returned  (7112)  alerts: A-WAGE high resolved
  ND-0001  -  / Kerala / job_ready (9111)
  ND-0002  -  / Punjab / job_ready (7112)
Job offers: SA 9111 (Kerala, 10 days ago), SA 9111 (Kerala, 400 days ago),
AE 9111 (Punjab, 30 days ago), QA 7112 (Bihar, 5 days ago).
Officers (id: role, scopes): sup-all: supervisor *; off-sa: officer dest:SA;
off-kerala: officer origin:Kerala; sup-sa: supervisor dest:SA; gone: officer * (disabled).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

import events
from services.query.officers import add_officer
from services.storage.db import session_scope
from services.storage.tables import Alert, Case, JobOffer, Officer, TimelineEvent
from services.worker.counts import recount
from services.worker.views import LIVE
from tests.factories import make

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RANK = {"critical": -3, "high": -2, "medium": -1}
CASE_RANK = {None: 0, "critical": 3, "high": 2, "medium": 1}
OFFICERS = {
    "sup-all": ("supervisor", ["*"]),
    "off-sa": ("officer", ["dest:SA"]),
    "off-kerala": ("officer", ["origin:Kerala"]),
    "sup-sa": ("supervisor", ["dest:SA"]),
    "gone": ("officer", ["*"]),
}


def case(
    case_id: str,
    dest: str | None,
    origin: str,
    stage: str,
    occupation: str,
    *,
    open_alerts: int = 0,
    top: str | None = None,
) -> Case:
    return Case(
        case_id=case_id,
        stage=stage,
        stage_since=T - timedelta(days=30),
        given_name="Asha",
        family_name="Kumari",
        nationality="IN",
        origin_region=origin,
        occupation_code=occupation,
        destination_country=dest,
        employer_id="E1" if dest else None,
        contract={"contract_id": "K1", "monthly_wage": {"amount": "1500.00", "currency": "SAR"}, "contract_months": 24}
        if stage == "deployed"
        else None,
        departed_at=T - timedelta(days=60) if stage == "deployed" else None,
        wellbeing="ok",
        open_alerts=open_alerts,
        top_severity=top,
        top_severity_rank=CASE_RANK[top],
        event_count=3,
        last_event_at=T,
        state={"secret": "folded state never leaves the database"},
    )


def alert(
    alert_id: str,
    case_id: str,
    code: str,
    severity: str,
    status: str,
    raised_days: float,
    dest: str | None,
    origin: str,
) -> Alert:
    return Alert(
        alert_id=alert_id,
        case_id=case_id,
        code=code,
        severity=severity,
        severity_rank=RANK[severity],
        status=status,
        raised_at=T + timedelta(days=raised_days),
        trigger_event_id=None,
        acknowledged_by="off-sa" if status == "acknowledged" else None,
        resolved_by="sup-all" if status == "resolved" else None,
        resolved_at=T + timedelta(days=2) if status == "resolved" else None,
        destination_country=dest,
        origin_region=origin,
    )


def timeline_rows() -> list[TimelineEvent]:
    """SA-0001's events, inserted out of order; the tie on occurred_at is broken by recorded_at."""
    stamped = [
        make("deployment.wage_paid", 40, event_id="00000000-0000-4000-8000-000000000003", case_id="SA-0001"),
        make(
            "deployment.departed",
            10,
            event_id="00000000-0000-4000-8000-000000000002",
            case_id="SA-0001",
            recorded_at=T - timedelta(days=1),
        ),
        make(
            "deployment.arrived", 10, event_id="00000000-0000-4000-8000-000000000001", case_id="SA-0001", recorded_at=T
        ),
    ]
    return [
        TimelineEvent(
            event_id=str(e.event_id),
            case_id=e.case_id,
            event_type=e.event_type,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            envelope=json.loads(events.encode(e)),
        )
        for e in stamped
    ]


def seed(engine: Engine, secret_key: str, now: datetime | None = None) -> dict[str, str]:
    """Write the world; returns each officer's bearer token by officer id."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        session.add_all(
            [
                case("SA-0001", "SA", "Kerala", "deployed", "9111", open_alerts=2, top="critical"),
                case("SA-0002", "SA", "Bihar", "recruiting", "7112"),
                case("AE-0001", "AE", "Kerala", "deployed", "9111", open_alerts=1, top="high"),
                case("QA-0001", "QA", "Punjab", "returned", "7112"),
                case("ND-0001", None, "Kerala", "job_ready", "9111"),
                case("ND-0002", None, "Punjab", "job_ready", "7112"),
                alert("A-DIST", "SA-0001", "DISTRESS", "critical", "open", 1, "SA", "Kerala"),
                alert("A-UNDER", "SA-0001", "UNDERPAID", "high", "acknowledged", 0, "SA", "Kerala"),
                alert("A-FEE", "SA-0001", "RECRUITMENT_FEE_CHARGED", "medium", "resolved", -9, "SA", "Kerala"),
                alert("A-PASS", "AE-0001", "PASSPORT_CONFISCATED", "high", "open", -1, "AE", "Kerala"),
                alert("A-WAGE", "QA-0001", "WAGE_THEFT", "high", "resolved", -5, "QA", "Punjab"),
                *timeline_rows(),
                *[
                    JobOffer(
                        event_id=f"offer-{i}",
                        case_id=c,
                        offer_id=f"O{i}",
                        occupation_code=occ,
                        destination_country=dest,
                        origin_region=origin,
                        occurred_at=now - timedelta(days=days),
                    )
                    for i, (c, occ, dest, origin, days) in enumerate(
                        [
                            ("SA-0001", "9111", "SA", "Kerala", 10),
                            ("SA-0001", "9111", "SA", "Kerala", 400),
                            ("AE-0001", "9111", "AE", "Punjab", 30),
                            ("QA-0001", "7112", "QA", "Bihar", 5),
                        ]
                    )
                ],
            ]
        )
    with engine.begin() as connection:  # the worker keeps the counts; this seed wrote the views directly
        recount(connection, LIVE)
    tokens = {oid: add_officer(engine, secret_key, oid, role, scopes).token for oid, (role, scopes) in OFFICERS.items()}
    with session_scope(engine) as session:
        session.get(Officer, "gone").disabled = True
    return tokens
