"""SPEC section 7 on real Kafka and PostgreSQL: no single record stops projection.

A record the database refuses, in the middle of a batch, goes to the dead-letter topic with its
reason while the events before and after it are applied and the worker keeps running; so does a
conflicting duplicate (the same event_id with other content), while an identical republish stays
a silent no-op. The worker's log holds no personal value of these records.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, text

import events
from services.config import ROOT
from services.domain import RuleConfig
from services.worker import dlq, views
from services.worker.replay import _apply_isolating, replay
from services.worker.rows import Delivered
from services.worker.views import LIVE
from tests.factories import make
from tests.live import WorkerProcess, event_records, publish, timeline_ids
from tests.polling import wait_until

pytestmark = [pytest.mark.integration]

REFUSED_ID = "00000000-0000-4000-8000-0000000bad01"


def refuse_in_timeline(engine, event_id: str, table: str = LIVE.timeline.name) -> None:
    """Make the database refuse one event's timeline row, as it would refuse bad data."""
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            CREATE OR REPLACE FUNCTION refuse_one() RETURNS trigger AS $$
            BEGIN
              IF NEW.event_id = '{event_id}' THEN
                RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22023';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        )
        conn.execute(
            text(f"CREATE TRIGGER refuse_one BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_one()")
        )


def letters_when(settings, count: int) -> list[dlq.DeadLetter]:
    def enough():
        letters = list(dlq.read(settings, timeout_s=5))
        return letters if len(letters) >= count else None

    return wait_until(enough, timeout_s=120, what=f"{count} dead letter(s)")


def passage(worker: WorkerProcess, *args: str) -> str:
    """A `passage` command with the worker's settings; its stdout (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "services", *args], cwd=ROOT, env=worker.env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def case_row(engine, case_id: str):
    with engine.connect() as conn:
        return conn.execute(select(LIVE.cases).where(LIVE.cases.c.case_id == case_id)).one_or_none()


def test_records_the_database_refuses_go_to_the_dlq_and_the_events_around_them_are_applied(
    worker_settings, views_engine, tmp_path
):
    case = "REFUSED-0001"
    refuse_in_timeline(views_engine, REFUSED_ID)
    before = [
        make("migrant.registered", 0, case_id=case, given_name="Meera"),
        make("recruitment.job_offer_made", 5, case_id=case),
    ]
    nul_name = make("migrant.registered", 6, case_id=case, family_name="Nair")
    refused = make("case.note_added", 7, case_id=case, event_id=REFUSED_ID, text="Rajan's landlord")
    after = [make("deployment.departed", 30, case_id=case), make("deployment.distress_reported", 31, case_id=case)]
    records = event_records(worker_settings, before)
    # A NUL character in a name, from another producer: decoding refuses it under the text rules
    # (and PostgreSQL text would refuse it if it got that far). The trigger's refusal is the one
    # only the database makes.
    [nul_record] = event_records(worker_settings, [nul_name])
    nul_record = type(nul_record)(
        nul_record.topic, nul_record.key, nul_record.value.replace(b'"Asha"', b'"As\\u0000ha"')
    )
    assert b"\\u0000" in nul_record.value
    records += [nul_record, *event_records(worker_settings, [refused]), *event_records(worker_settings, after)]
    publish(worker_settings, records)  # one case, one partition: one batch

    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    good = {str(e.event_id) for e in before + after}
    wait_until(
        lambda: good <= timeline_ids(views_engine) or not worker.alive(), timeout_s=120, what="the good events applied"
    )
    letters = letters_when(worker_settings, 2)
    assert worker.alive(), worker.log()

    later = make("deployment.welfare_check_completed", 40, case_id=case, wellbeing="concern")
    publish(worker_settings, event_records(worker_settings, [later]))
    wait_until(
        lambda: str(later.event_id) in timeline_ids(views_engine) or not worker.alive(),
        timeout_s=120,
        what="an event published after the refused ones applied",
    )
    assert timeline_ids(views_engine) == good | {str(later.event_id)}
    by_id = {letter.event_id: letter for letter in letters}

    # The on-call engineer lists the dead letters, fixes the cause, and replays the one it fixed.
    listing = passage(worker, "dlq", "list")
    assert listing.splitlines()[0] == "offset\tfailed_at\tevent_type\tevent_id\torigin\treason"
    assert REFUSED_ID in listing and str(nul_name.event_id) in listing and "2 dead letter(s)" in listing
    with views_engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER refuse_one ON {LIVE.timeline.name}"))
    replayed = passage(worker, "dlq", "replay", "--offset", str(by_id[REFUSED_ID].offset))
    assert "1 dead letter(s) published back" in replayed
    wait_until(
        lambda: REFUSED_ID in timeline_ids(views_engine) or not worker.alive(),
        timeout_s=120,
        what="the replayed dead letter applied",
    )
    log = worker.log_path.read_text(errors="replace")
    assert worker.stop() == 0, log[-4000:]
    for personal in ("Meera", "Nair", "Rajan", "landlord"):
        assert personal not in listing + replayed, f"{personal!r} is in the output of passage dlq"

    assert set(by_id) == {str(nul_name.event_id), REFUSED_ID}
    assert by_id[REFUSED_ID].reason == (
        "the database refused the record: InvalidParameterValue (SQLSTATE 22023): refused by the test"
    )
    assert by_id[REFUSED_ID].event_type == "case.note_added"
    nul_reason = by_id[str(nul_name.event_id)].reason
    assert "NUL" in nul_reason or "control character" in nul_reason, nul_reason
    for letter in letters:
        assert letter.original_topic == worker_settings.journey_topic and letter.original_offset is not None
    row = case_row(views_engine, case)
    assert (row.event_count, row.stage, row.given_name, row.wellbeing) == (6, "deployed", "Meera", "concern")
    for personal in ("Meera", "Nair", "Rajan", "As\\u0000ha", "landlord"):
        assert personal not in log, f"{personal!r} is in the worker's log"

    # Rebuilding the views from the log meets the NUL record again, sets it aside, and goes on
    # (refused by the database, or by decoding where the text rules refuse control characters).
    result = replay(worker_settings, views_engine, progress=False)
    assert result.failed + result.skipped == 1
    assert case_row(views_engine, case) == row


def test_a_replay_sets_aside_what_the_database_refuses_in_a_savepoint_and_folds_the_rest(views_engine):
    rebuilt = views.shadow(views_engine)
    try:
        refuse_in_timeline(views_engine, REFUSED_ID, table=rebuilt.timeline.name)
        case = "REFUSED-0002"
        stream = [
            make("migrant.registered", 0, case_id=case),
            make("case.note_added", 1, case_id=case, event_id=REFUSED_ID),
            make("deployment.departed", 2, case_id=case),
        ]
        delivered = [Delivered(event, events.encode(event).decode(), 0, offset) for offset, event in enumerate(stream)]
        with views_engine.begin() as conn:
            applied = _apply_isolating(conn, rebuilt, delivered, RuleConfig())
        assert applied.applied == 2
        assert [(d.event.event_id, reason) for d, reason in applied.failed] == [
            (
                stream[1].event_id,
                "the database refused the record: InvalidParameterValue (SQLSTATE 22023): refused by the test",
            )
        ]
        with views_engine.connect() as conn:
            held = set(conn.execute(select(rebuilt.timeline.c.event_id)).scalars())
        assert held == {str(stream[0].event_id), str(stream[2].event_id)}
    finally:
        views.drop(views_engine, rebuilt)


def test_a_conflicting_duplicate_goes_to_the_dlq_and_an_identical_republish_changes_nothing(
    worker_settings, views_engine, tmp_path
):
    case, other = "DUPLICATE-0001", "DUPLICATE-0002"
    original = make("deployment.wage_paid", 70, case_id=case, period="2025-03")
    first = [
        make("migrant.registered", 0, case_id=case),
        make("deployment.departed", 40, case_id=case),
        make("deployment.arrived", 41, case_id=case),
        original,
    ]
    publish(worker_settings, event_records(worker_settings, first))
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    wait_until(
        lambda: {str(e.event_id) for e in first} <= timeline_ids(views_engine) or not worker.alive(),
        timeout_s=120,
        what="the first events applied",
    )

    # The same event republished later: a new recorded_at, otherwise identical.
    republished = original.model_copy(update={"recorded_at": original.recorded_at + timedelta(hours=5)})
    changed = original.model_copy(update={"payload": original.payload.model_copy(update={"period": "2025-04"})})
    elsewhere = make("migrant.registered", 1, case_id=other, event_id=str(original.event_id))
    after = [
        make("deployment.welfare_check_completed", 80, case_id=case),
        make("migrant.registered", 2, case_id=other, event_id=None),
    ]
    second = [republished, changed, elsewhere, after[0], after[1]]
    publish(worker_settings, event_records(worker_settings, second))
    wait_until(
        lambda: {str(e.event_id) for e in after} <= timeline_ids(views_engine) or not worker.alive(),
        timeout_s=120,
        what="the events after the duplicates applied",
    )
    letters = letters_when(worker_settings, 2)
    assert worker.alive(), worker.log()
    assert worker.stop() == 0, worker.log()

    assert [(letter.reason, letter.event_id) for letter in letters] == [
        ("conflicting_duplicate", str(original.event_id))
    ] * 2
    assert {letter.key for letter in letters} == {case, other}
    assert all("new event_id" in letter.detail for letter in letters)
    row = case_row(views_engine, case)
    assert (row.event_count, row.last_wage_period) == (5, "2025-03")
    assert case_row(views_engine, other).event_count == 1
    with views_engine.connect() as conn:
        envelope = conn.execute(
            select(LIVE.timeline.c.envelope).where(LIVE.timeline.c.event_id == str(original.event_id))
        ).scalar_one()
    held = envelope if isinstance(envelope, dict) else json.loads(envelope)
    assert held["payload"]["period"] == "2025-03" and held["case_id"] == case
