"""Did a fault lose or double anything? The views against what the gateway accepted, and against a
clean replay of the same log into a second database.

- lost: an event answered 202 that is not in the timeline;
- applied twice: a case whose event_count differs from its timeline rows (the timeline's primary
  key already refuses a second row per event_id, so a double application would show up here, and
  as a difference from the replay);
- replay differences: any column of any case or alert row, or any headcount or offer tally (the
  counts workers keep by deltas, services/worker/counts.py), that a rebuild from offset 0
  computes differently from the views the faulted services kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.storage.tables import Alert, Case, TimelineEvent
from services.worker.counts import LIVE_TABLES as COUNTS
from tests.faults.traffic import Traffic

SHOWN = 5  # differences listed in a failure message


def applied_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(TimelineEvent.__table__.c.event_id)).scalars())


def recovered(engine: Engine, traffic: Traffic, since: float) -> bool:
    """Every event accepted before `since` is in the views, and so is one sent after it."""
    before = {a.event_id for a in traffic.answers if a.status == 202 and a.answered < since}
    after = {a.event_id for a in traffic.answers if a.status == 202 and a.sent >= since}
    if not after:
        return False
    applied = applied_ids(engine)
    return before <= applied and bool(after & applied)


def miscounted_cases(engine: Engine) -> list[str]:
    """Cases whose event_count is not the number of their timeline rows."""
    cases, timeline = Case.__table__.c, TimelineEvent.__table__.c
    counted = select(timeline.case_id, func.count().label("rows")).group_by(timeline.case_id).subquery()
    query = (
        select(cases.case_id)
        .join(counted, counted.c.case_id == cases.case_id, isouter=True)
        .where(cases.event_count != func.coalesce(counted.c.rows, 0))
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def differences(live: Engine, rebuilt: Engine) -> list[str]:
    """Every case or alert row that differs between the two databases, as readable lines."""
    found = []
    for table, key in (
        (Case.__table__, "case_id"),
        (Alert.__table__, "alert_id"),
        *((counted, None) for counted in COUNTS),
    ):
        ours, theirs = _rows(live, table, key), _rows(rebuilt, table, key)
        for missing in sorted(theirs.keys() - ours.keys()):
            found.append(f"{table.name} {missing}: only in the replay")
        for extra in sorted(ours.keys() - theirs.keys()):
            found.append(f"{table.name} {extra}: only in the live views")
        for row_key in sorted(ours.keys() & theirs.keys()):
            columns = [c for c in ours[row_key] if ours[row_key][c] != theirs[row_key][c]]
            if columns:
                found.append(f"{table.name} {row_key}: {', '.join(columns)} differ")
    return found


def _rows(engine: Engine, table, key: str | None) -> dict:
    """Rows by `key`, or by their whole primary key when None."""
    names = [key] if key else [column.name for column in table.primary_key.columns]
    with engine.connect() as connection:
        return {
            "/".join(str(row[name]) for name in names): dict(row)
            for row in connection.execute(select(table)).mappings()
        }


@dataclass
class Verdict:
    published: int
    accepted: int
    applied: int  # timeline rows of published events
    lost: list[str] = field(default_factory=list)
    unaccepted_applied: int = 0  # answered other than 202 (and given up on), yet on the log
    applied_twice: list[str] = field(default_factory=list)
    replay_differences: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, object]:
        return {
            "published": self.published,
            "accepted": self.accepted,
            "applied": self.applied,
            "lost": len(self.lost),
            "applied_twice": len(self.applied_twice),
            "unaccepted_applied": self.unaccepted_applied,
            "replay_differences": len(self.replay_differences),
        }

    def check(self) -> None:
        assert not self.lost, f"{len(self.lost)} accepted events never reached the views: {self.lost[:SHOWN]}"
        assert not self.applied_twice, f"cases whose event_count is off: {self.applied_twice[:SHOWN]}"
        assert not self.replay_differences, (
            f"{len(self.replay_differences)} rows differ from a clean replay: {self.replay_differences[:SHOWN]}"
        )


def judge(published: list[str], accepted: set[str], live: Engine, rebuilt: Engine) -> Verdict:
    applied = applied_ids(live) & set(published)
    return Verdict(
        published=len(published),
        accepted=len(accepted),
        applied=len(applied),
        lost=sorted(accepted - applied),
        unaccepted_applied=len(applied - accepted),
        applied_twice=miscounted_cases(live),
        replay_differences=differences(live, rebuilt),
    )
