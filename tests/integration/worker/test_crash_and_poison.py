"""The worker on real Kafka and PostgreSQL: kill -9 mid-stream, and poison records."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from sqlalchemy import select

from services.worker import dlq
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

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def committed_offsets(settings) -> dict[int, int]:
    """The worker group's committed offsets (a consumer that asks, without joining the group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=f"{settings.topic_prefix}-worker",
        enable_auto_commit=False,
    )
    try:
        partitions = consumer.partitions_for_topic(settings.journey_topic)
        offsets = {p: consumer.committed(TopicPartition(settings.journey_topic, p)) for p in partitions}
    finally:
        consumer.close()
    return {p: offset for p, offset in offsets.items() if offset is not None}


def rewind(settings, offsets: dict[int, int]) -> None:
    """Commit `offsets` (0 for a partition not in them) for the worker group, once the killed
    member's session has expired (Kafka takes commits from outside the group only when it is empty)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=f"{settings.topic_prefix}-worker",
        enable_auto_commit=False,
    )
    tps = [TopicPartition(settings.journey_topic, p) for p in range(settings.partitions)]
    consumer.assign(tps)
    target = {tp: OffsetAndMetadata(offsets.get(tp.partition, 0), "", -1) for tp in tps}
    try:
        wait_until(
            lambda: consumer.commit(target) is None,
            timeout_s=settings.worker_session_timeout_s + 60,
            what="the killed worker's session expired and the offsets rewound",
            interval_s=0.5,
            ignoring=(KafkaError,),
        )
    finally:
        consumer.close()


def applied_ends(engine) -> dict[int, int]:
    """Per partition, one past the highest offset whose event is in the views."""
    t = LIVE.timeline.c
    with engine.connect() as conn:
        rows = conn.execute(select(t.topic_partition, t.topic_offset)).all()
    ends: dict[int, int] = {}
    for partition, offset in rows:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    return ends


def test_kill_9_mid_stream_then_restart_gives_the_views_of_a_clean_replay(worker_settings, views_engine, tmp_path):
    records = journey_records(worker_settings, 180, seed=11)  # about 5,000 events
    publish(worker_settings, records)
    expected = event_ids(records)

    first = WorkerProcess(worker_settings, tmp_path / "worker-1.log").start()
    wait_until(
        lambda: timeline_count(views_engine) >= len(expected) // 6 or not first.alive(),
        timeout_s=120,
        what="a sixth of the stream applied",
    )
    earlier = committed_offsets(worker_settings)
    wait_until(
        lambda: timeline_count(views_engine) >= len(expected) // 3 or not first.alive(),
        timeout_s=120,
        what="a third of the stream applied",
    )
    first.kill9()
    applied_at_kill = timeline_count(views_engine)
    assert applied_at_kill < len(expected), "the worker finished before it was killed; publish more events"
    # The worker commits a batch's offsets right after its database commit and publishes, so a kill
    # lands between the two only sometimes. What such a kill leaves, the database ahead of the
    # committed offsets, is made certain: the group's offsets go back to where they stood earlier
    # in this run (as if no offset commit since then had reached Kafka).
    rewind(worker_settings, earlier)
    committed = committed_offsets(worker_settings)
    # The database ran ahead of the committed offsets: the restart must re-deliver those records.
    assert any(end > committed.get(p, 0) for p, end in applied_ends(views_engine).items()), (
        committed,
        applied_ends(views_engine),
    )

    second = WorkerProcess(worker_settings, tmp_path / "worker-2.log").start()
    wait_until(
        lambda: timeline_ids(views_engine) == expected or not second.alive(),
        timeout_s=300,
        what="every event applied after the restart",
    )
    assert second.stop() == 0, second.log()
    assert timeline_ids(views_engine) == expected

    after_crash = snapshot(views_engine)
    replay(worker_settings, views_engine, progress=False)
    assert snapshot(views_engine) == after_crash


def test_poison_records_go_to_the_dlq_and_the_events_after_them_are_applied(worker_settings, views_engine, tmp_path):
    case = "POISON-0001"
    before = [make("migrant.registered", 0, case_id=case), make("recruitment.job_offer_made", 5, case_id=case)]
    after = [make("deployment.departed", 30, case_id=case), make("deployment.distress_reported", 31, case_id=case)]
    unknown = json.loads(event_records(worker_settings, [make("case.note_added", 1, case_id=case)])[0].value)
    unknown["event_type"] = "case.teleported"
    invalid = json.loads(event_records(worker_settings, [make("deployment.wage_paid", 2, case_id=case)])[0].value)
    invalid["payload"]["amount"]["currency"] = "SARR"
    poison = [b"{not json", json.dumps(unknown).encode(), json.dumps(invalid).encode()]
    records = event_records(worker_settings, before)
    records += [type(records[0])(worker_settings.journey_topic, case, value) for value in poison]
    records += event_records(worker_settings, after)
    publish(worker_settings, records)

    worker = WorkerProcess(worker_settings, tmp_path / "worker.log").start()
    good = {str(e.event_id) for e in before + after}
    wait_until(
        lambda: timeline_ids(views_engine) == good or not worker.alive(), timeout_s=120, what="the good events applied"
    )
    letters = wait_until(
        lambda: list(dlq.read(worker_settings)) if len(list(dlq.read(worker_settings))) >= 3 else None,
        timeout_s=120,
        what="three dead letters",
    )
    assert worker.stop() == 0, worker.log()

    assert len(letters) == 3
    assert "not valid JSON" in letters[0].reason
    assert "unknown event type 'case.teleported'" in letters[1].reason
    assert "payload.amount.currency" in letters[2].reason
    consumer = KafkaConsumer(bootstrap_servers=worker_settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        for letter, value in zip(letters, poison, strict=True):
            assert letter.original_topic == worker_settings.journey_topic
            tp = TopicPartition(letter.original_topic, letter.original_partition)
            consumer.assign([tp])
            consumer.seek(tp, letter.original_offset)
            [original] = consumer.poll(timeout_ms=10_000, max_records=1)[tp]
            assert original.value == value  # the headers point at the very record
    finally:
        consumer.close()
    with views_engine.connect() as conn:
        row = conn.execute(select(LIVE.cases).where(LIVE.cases.c.case_id == case)).one()
    assert (row.event_count, row.stage, row.top_severity) == (4, "deployed", "critical")
