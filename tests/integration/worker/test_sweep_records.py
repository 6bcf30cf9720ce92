"""The running worker's sweep writes its time alerts to the journey topic as the gateway writes an
agency's event (issue 19): key = case_id and the headers event_type, schema_version, event_id,
each saying what the record's value says."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.factories import make
from tests.live import WorkerProcess, event_records, publish

pytestmark = pytest.mark.integration


def swept_records(settings, case_id: str, timeout_s: float = 120.0) -> list:
    """The `case.time_alert_raised` records of `case_id` on the journey topic, once there are any."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(settings.journey_topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list = []
        deadline = time.monotonic() + timeout_s
        while not found:
            if time.monotonic() > deadline:
                raise AssertionError(f"no time alert for {case_id} on {settings.journey_topic} within {timeout_s:.0f}s")
            for polled in consumer.poll(timeout_ms=500).values():
                found += [
                    r
                    for r in polled
                    if r.key == case_id.encode() and dict(r.headers).get("event_type") == b"case.time_alert_raised"
                ]
        return found
    finally:
        consumer.close()


def test_a_swept_time_alert_carries_the_gateway_record_headers(worker_settings, views_engine, tmp_path):
    case_id = f"IN-SWEEP-{uuid.uuid4().hex[:8]}"
    # Departed in January 2025 and never arrived: NOT_ARRIVED is long due.
    journey = [make("migrant.registered", 0, case_id=case_id), make("deployment.departed", 10, case_id=case_id)]
    publish(worker_settings, event_records(worker_settings, journey))
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log", sweep_interval_s=1).start()
    try:
        records = swept_records(worker_settings, case_id)
    finally:
        assert worker.stop() == 0, worker.log()

    for record in records:
        value = json.loads(record.value)
        assert record.key.decode() == value["case_id"] == case_id
        assert [name for name, _ in record.headers] == ["event_type", "schema_version", "event_id"]
        assert dict(record.headers) == {
            "event_type": b"case.time_alert_raised",
            "schema_version": str(value["schema_version"]).encode(),
            "event_id": value["event_id"].encode(),
        }
