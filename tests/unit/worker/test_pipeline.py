"""decode -> store -> publish on SQLite with a fake publisher: dead letters, alert messages, outbox."""

from __future__ import annotations

import json

import pytest

import events
from services.kafka.producer import PublishFailed
from services.worker.pipeline import Pipeline
from services.worker.views import LIVE
from tests.factories import make, message


def outbox_size(pipeline) -> int:
    with pipeline.engine.connect() as conn:
        return len(conn.execute(LIVE.outbox.select()).all())


def test_undecodable_records_become_dead_letters_with_reason_and_origin(pipeline, publisher, unit_settings):
    registered = make("migrant.registered", 0)
    unknown = json.loads(events.encode(make("case.note_added", 1)))
    unknown["event_type"] = "case.teleported"
    invalid = json.loads(events.encode(make("deployment.wage_paid", 2)))
    invalid["payload"]["period"] = "last month"
    batch = pipeline.decode(
        [
            message(b"{not json", 7),
            message(json.dumps(unknown).encode(), 8),
            message(json.dumps(invalid).encode(), 9),
            message(None, 10),
            message(registered, 11),
        ]
    )
    assert [d.event.event_id for d in batch.delivered] == [registered.event_id]
    pipeline.store(batch)
    pipeline.publish(batch)
    letters = publisher.on(unit_settings.dlq_topic)
    assert [dict(r.headers)["original_offset"] for r in letters] == [b"7", b"8", b"9", b"10"]
    reasons = [dict(r.headers)["reason"].decode() for r in letters]
    assert "not valid JSON" in reasons[0]
    assert "unknown event type 'case.teleported'" in reasons[1]
    assert "payload.period" in reasons[2]
    assert "tombstone" in reasons[3]
    first = dict(letters[0].headers)
    assert (first["original_topic"], first["original_partition"]) == (b"unit.journey.v1", b"0")
    assert letters[0].value == b"{not json" and letters[0].key == "CASE-0001"


def test_alert_changes_are_published_keyed_by_case_and_leave_the_outbox(pipeline, publisher, unit_settings):
    batch = pipeline.decode(
        [message(make("migrant.registered", 0), 0), message(make("deployment.distress_reported", 5), 1)]
    )
    pipeline.store(batch)
    assert outbox_size(pipeline) == 1
    pipeline.publish(batch)
    [record] = publisher.on(unit_settings.alerts_topic)
    body = json.loads(record.value)
    assert record.key == body["alert"]["case_id"]
    assert (body["change"], body["alert"]["code"], body["alert"]["status"]) == ("raised", "DISTRESS", "open")
    assert outbox_size(pipeline) == 0


def test_a_failed_publish_is_retried_without_storing_again(pipeline, publisher, unit_settings):
    batch = pipeline.decode([message(make("deployment.distress_reported", 5), 0)])
    applied = pipeline.store(batch)
    publisher.fail_next = 1
    with pytest.raises(PublishFailed):
        pipeline.publish(batch)
    assert pipeline.store(batch) is applied  # already committed: not folded twice
    pipeline.publish(batch)
    pipeline.publish(batch)  # done: nothing twice
    assert len(publisher.on(unit_settings.alerts_topic)) == 1


def test_changes_committed_but_never_published_are_flushed_on_the_next_start(unit_settings, publisher, pipeline):
    batch = pipeline.decode([message(make("deployment.distress_reported", 5), 0)])
    pipeline.store(batch)  # ...and the process dies before publishing
    restarted = Pipeline(unit_settings, pipeline.engine, publisher)
    assert restarted.flush_outbox() == 1
    assert json.loads(publisher.on(unit_settings.alerts_topic)[0].value)["alert"]["code"] == "DISTRESS"
    assert outbox_size(pipeline) == 0


def test_a_batch_decoded_before_an_erasure_of_its_case_is_decoded_again_and_one_of_other_cases_is_not(pipeline):
    """Decoding ahead (the reader decodes batch n+1 while n is stored) opens sealed fields with keys
    that n's erasures may destroy: `store` decodes again a batch whose cases were erased since."""
    erasure = make("case.erasure_requested", 10)
    other = make("deployment.wage_paid", 11, case_id="IN-2026-000999")
    ahead_of_erased = pipeline.decode([message(make("case.note_added", 11, text="at the Mill Road address"), 2)])
    ahead_of_other = pipeline.decode([message(other, 3)])
    decoded = ahead_of_erased.delivered, ahead_of_other.delivered
    first = pipeline.decode([message(make("migrant.registered", 0), 0), message(erasure, 1)])
    pipeline.store(first)
    pipeline.store(ahead_of_erased)
    pipeline.store(ahead_of_other)
    assert ahead_of_erased.delivered is not decoded[0] and ahead_of_erased.delivered[0].event.payload.text is None
    assert ahead_of_other.delivered is decoded[1]  # nothing of its case was erased: used as decoded


def test_a_batch_decoded_before_more_stores_than_are_remembered_is_decoded_again(pipeline, monkeypatch):
    from services.worker import pipeline as module

    monkeypatch.setattr(module, "ERASURES_KEPT", 2)
    early = pipeline.decode([message(make("deployment.wage_paid", 1, case_id="IN-2026-000998"), 9)])
    decoded = early.delivered
    for offset in range(3):  # three stores, none erasing: more than the two remembered
        pipeline.store(pipeline.decode([message(make("deployment.wage_paid", 2 + offset), offset)]))
    pipeline.store(early)
    assert early.delivered is not decoded  # whether an erasure came between is no longer known


def test_a_batch_stored_in_halves_blanks_what_a_later_half_opened_before_an_earlier_half_erased(pipeline):
    """A record the database refuses makes the batch go in in halves (`isolating`): the erasure
    commits with the first half, and the note after it, opened with the case's key when the whole
    batch was decoded, must not reach the timeline in clear."""
    from sqlalchemy import select

    from tests.unit.worker.test_refusals import REFUSED, refuse_in_sqlite

    note = make("case.note_added", 12, text="at the Mill Road address")
    stream = [
        make("migrant.registered", 0),
        make("case.erasure_requested", 10),
        make("deployment.wage_paid", 11, event_id=REFUSED, case_id="IN-2026-000997"),
        note,
    ]
    refuse_in_sqlite(pipeline, REFUSED)
    batch = pipeline.decode([message(event, offset) for offset, event in enumerate(stream)])
    applied = pipeline.store(batch)
    assert [str(d.event.event_id) for d, _reason in applied.failed] == [REFUSED]  # stored in halves
    with pipeline.engine.connect() as conn:
        envelope = conn.execute(
            select(LIVE.timeline.c.envelope).where(LIVE.timeline.c.event_id == str(note.event_id))
        ).scalar_one()
    assert envelope["payload"]["text"] is None
