"""Replay restores what the live worker built (time alerts and officer actions included), and
several workers joining one group under load lose nothing."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.worker.replay import replay
from services.worker.views import LIVE
from tests.factories import make
from tests.live import (
    WorkerProcess,
    event_ids,
    event_records,
    journey_records,
    publish,
    snapshot,
    timeline_count,
    timeline_ids,
)
from tests.polling import wait_until

pytestmark = pytest.mark.integration


def alerts(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(LIVE.alerts).order_by(LIVE.alerts.c.alert_id))]


def due_before(engine, moment: datetime) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(LIVE.cases).where(LIVE.cases.c.next_deadline <= moment)
        ).scalar_one()


def officer_event(event_type: str, alert: dict, when: datetime, **payload) -> object:
    return make(
        event_type,
        when,
        case_id=alert["case_id"],
        event_id=str(uuid.uuid4()),
        recorded_at=datetime.now(UTC),
        alert_id=alert["alert_id"],
        officer_id="OF-7",
        **payload,
    )


def test_replay_gives_the_same_cases_and_alerts_with_time_rules_and_officer_actions(
    worker_settings, views_engine, tmp_path
):
    # Journeys from the demo, plus two migrants who departed in January 2025 and never arrived:
    # the sweep raises NOT_ARRIVED and NO_WELFARE_CHECK for them (time rules, no trigger event).
    stranded = [
        e
        for case in ("STRANDED-0001", "STRANDED-0002")
        for e in (make("migrant.registered", 0, case_id=case), make("deployment.departed", 10, case_id=case))
    ]
    records = journey_records(worker_settings, 60, seed=5) + event_records(worker_settings, stranded)
    publish(worker_settings, records)
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log", sweep_interval_s=1).start()
    wait_until(
        lambda: timeline_ids(views_engine) >= event_ids(records) or not worker.alive(),
        timeout_s=120,
        what="the journeys applied",
    )
    started = datetime.now(UTC)
    wait_until(
        lambda: due_before(views_engine, started) == 0 or not worker.alive(),
        timeout_s=120,
        what="every time rule due at the start swept and applied",
    )
    time_alerts = [a for a in alerts(views_engine) if a["trigger_event_id"] is None]
    assert {a["code"] for a in time_alerts if a["case_id"].startswith("STRANDED")} >= {
        "NOT_ARRIVED",
        "NO_WELFARE_CHECK",
    }

    opened = [a for a in alerts(views_engine) if a["status"] == "open"]
    acknowledged, resolved = opened[0], opened[1]
    now = datetime.now(UTC)
    actions = [
        officer_event("case.alert_acknowledged", acknowledged, now, note="called the employer"),
        officer_event("case.alert_resolved", resolved, now, note="back home"),
    ]
    publish(worker_settings, event_records(worker_settings, actions))
    wait_until(
        lambda: (
            {a["alert_id"]: a["status"] for a in alerts(views_engine)}.items()
            >= {(acknowledged["alert_id"], "acknowledged"), (resolved["alert_id"], "resolved")}
        ),
        timeout_s=120,
        what="the officer actions applied",
    )
    assert worker.stop() == 0, worker.log()

    live = snapshot(views_engine)
    replayed = replay(worker_settings, views_engine, progress=False)
    assert replayed.events == timeline_count(views_engine) and replayed.skipped == 0
    assert snapshot(views_engine)["alerts"] == live["alerts"]  # ids, codes, statuses, raised_at, officers
    assert snapshot(views_engine) == live
    in_two_jobs = replay(worker_settings, views_engine, progress=False, jobs=2)
    assert (in_two_jobs.events, in_two_jobs.skipped) == (replayed.events, 0)
    assert snapshot(views_engine) == live


def test_workers_joining_a_group_under_load_lose_no_record(worker_settings, views_engine, tmp_path):
    records = journey_records(worker_settings, 200, seed=21)  # about 5,700 events on 6 partitions
    half = len(records) // 2
    publish(worker_settings, records[:half])
    expected = event_ids(records)
    workers = [WorkerProcess(worker_settings, tmp_path / "worker-1.log").start()]
    wait_until(
        lambda: timeline_count(views_engine) >= 300 or not workers[0].alive(),
        timeout_s=120,
        what="the first worker busy",
    )
    workers += [WorkerProcess(worker_settings, tmp_path / f"worker-{n}.log").start() for n in (2, 3)]
    # The first worker may drain its half before the others are up: the second half is published
    # once they have started, so it arrives while the group rebalances.
    wait_until(
        lambda: all(w.started() for w in workers) or not all(w.alive() for w in workers),
        timeout_s=120,
        what="the joining workers started",
    )
    publish(worker_settings, records[half:])
    wait_until(
        lambda: timeline_ids(views_engine) == expected or not all(w.alive() for w in workers),
        timeout_s=300,
        what="every event applied by the group",
    )
    assert [w.stop() for w in workers] == [0, 0, 0], "\n".join(w.log() for w in workers)
    assert timeline_ids(views_engine) == expected

    live = snapshot(views_engine)
    replay(worker_settings, views_engine, progress=False)
    assert snapshot(views_engine) == live


def test_a_replay_while_a_worker_runs_and_events_keep_arriving_loses_nothing(worker_settings, views_engine, tmp_path):
    first = journey_records(worker_settings, 80, seed=31)
    later = journey_records(worker_settings, 80, seed=32)
    publish(worker_settings, first)
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    wait_until(
        lambda: timeline_ids(views_engine) >= event_ids(first) or not worker.alive(),
        timeout_s=120,
        what="the first events",
    )

    arriving = threading.Thread(
        target=lambda: [publish(worker_settings, later[i : i + 200]) for i in range(0, len(later), 200)]
    )
    arriving.start()
    replay(worker_settings, views_engine, progress=False)
    arriving.join()
    everything = event_ids(first + later)
    wait_until(
        lambda: timeline_ids(views_engine) == everything or not worker.alive(),
        timeout_s=300,
        what="every event in the views after the swap",
    )
    assert worker.stop() == 0, worker.log()

    live = snapshot(views_engine)
    replay(worker_settings, views_engine, progress=False)
    assert snapshot(views_engine) == live


def test_a_row_the_database_refuses_in_the_bulk_fold_sends_the_replay_batch_by_batch(
    worker_settings, views_engine, monkeypatch
):
    """A COPY fails whole when one row is refused; the replay then rebuilds batch by batch (where
    refused records are set aside one by one) and still gives the same views."""
    import psycopg

    from services.worker import bulk

    publish(worker_settings, journey_records(worker_settings, 20, seed=41))
    replay(worker_settings, views_engine, progress=False)
    in_bulk = snapshot(views_engine)

    def refused(*args, **kwargs):
        raise psycopg.errors.CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')

    monkeypatch.setattr(bulk, "_fold_partitions", refused)
    replayed = replay(worker_settings, views_engine, progress=False)
    assert replayed.events == len(in_bulk["timeline"]) and replayed.failed == 0
    assert snapshot(views_engine) == in_bulk
