"""What the gateway reads from the views before publishing (thin: queries only, no decisions):
the facts case binding needs (`services.gateway.binding`), an employer agency's employer id,
and the envelopes already stored under the event_ids being published (for 409 conflicts).

Each read takes a `connection` when the caller holds one (a group of single events is decided on
one connection, its key check included: `services.gateway.grouping`), else one of its own."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Connection, Engine

from services.gateway.binding import CaseFacts
from services.storage.db import connected
from services.storage.tables import Agency, Case, TimelineEvent, WatchlistEntry, table_of

cases: Table = table_of(Case)
timeline: Table = table_of(TimelineEvent)
agencies: Table = table_of(Agency)
watchlist: Table = table_of(WatchlistEntry)
OFFER, CONTRACT = "recruitment.job_offer_made", "recruitment.contract_signed"


class CaseViews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def facts(self, case_ids: Collection[str], connection: Connection | None = None) -> dict[str, CaseFacts]:
        """Facts of the cases among `case_ids` that are in the views (absent: not there yet)."""
        if not case_ids:
            return {}
        ids = sorted(set(case_ids))
        with connected(self.engine, connection) as connection:
            found = connection.execute(
                select(cases.c.case_id, cases.c.stage, cases.c.employer_id, cases.c.referrals).where(
                    cases.c.case_id.in_(ids)
                )
            ).all()
            if not found:
                return {}
            t = timeline.c
            # Oldest first in timeline order, so the last row per (case, type) is the latest.
            deals = connection.execute(
                select(t.case_id, t.event_type, t.envelope)
                .where(t.case_id.in_([row.case_id for row in found]), t.event_type.in_([OFFER, CONTRACT]))
                .order_by(t.case_id, t.occurred_at, t.recorded_at, t.event_id)
            ).all()
        latest = {(row.case_id, row.event_type): row.envelope.get("payload", {}) for row in deals}
        return {
            row.case_id: CaseFacts(
                stage=row.stage,
                employer_id=row.employer_id,
                offer_agent_id=latest.get((row.case_id, OFFER), {}).get("recruiting_agent_id"),
                contract_employer_id=latest.get((row.case_id, CONTRACT), {}).get("employer_id"),
                referrals={r["referral_id"]: r["to_agency_id"] for r in row.referrals or []},
            )
            for row in found
        }

    def employer_id(self, agency_id: str, connection: Connection | None = None) -> str | None:
        with connected(self.engine, connection) as connection:
            return connection.execute(select(agencies.c.employer_id).where(agencies.c.id == agency_id)).scalar()

    def stored(self, event_ids: Collection[str], connection: Connection | None = None) -> dict[str, dict]:
        """The stamped envelopes the timeline (or, for watchlist events, the watchlist) holds under
        any of `event_ids`."""
        if not event_ids:
            return {}
        with connected(self.engine, connection) as connection:
            rows = connection.execute(_STORED, {"ids": sorted(set(event_ids))}).all()
        return {row.event_id: row.envelope for row in rows}


# Built once: it is read for every event the gateway takes.
_STORED = (
    select(timeline.c.event_id, timeline.c.envelope)
    .where(timeline.c.event_id.in_(bindparam("ids", expanding=True)))
    .union_all(
        select(watchlist.c.event_id, watchlist.c.envelope).where(
            watchlist.c.event_id.in_(bindparam("ids", expanding=True))
        )
    )
)
