"""The sweep over SQLite: due cases of owned partitions -> deterministic time-alert events."""

from __future__ import annotations

from datetime import UTC, datetime

from kafka.partitioner.default import DefaultPartitioner

from services.worker.sweep import SOURCE, due_events, partition_of, sweep_once
from tests.factories import NO_ESCALATION, make
from tests.views import store as views_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULES = NO_ESCALATION  # escalation by the sweep has its own tests (test_sweep_escalation.py)


def store(engine, *events_):
    return views_store(engine, events_, NOW, RULES)


def departed_without_arrival(engine, case_id="CASE-0001"):
    store(engine, make("migrant.registered", 0, case_id=case_id), make("deployment.departed", 10, case_id=case_id))


def test_a_due_case_yields_its_time_alerts_once_and_deterministically(sqlite_engine):
    departed_without_arrival(sqlite_engine)
    everything = set(range(4))
    first = list(due_events(sqlite_engine, RULES, NOW, everything, 4))
    again = list(due_events(sqlite_engine, RULES, NOW, everything, 4))
    assert {e.payload.code for e in first} >= {"NOT_ARRIVED", "NO_WELFARE_CHECK"}
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert all(e.event_type == "case.time_alert_raised" and e.source.model_dump(mode="json") == SOURCE for e in first)
    not_arrived = next(e for e in first if e.payload.code == "NOT_ARRIVED")
    assert not_arrived.payload.raised_at == datetime(2025, 1, 14, tzinfo=UTC)  # departure + 72 h

    applied = store(sqlite_engine, *first)
    assert {m["alert"]["code"] for m in applied.changes} == {e.payload.code for e in first}
    assert all(m["alert"]["trigger_event_id"] is None for m in applied.changes)
    assert list(due_events(sqlite_engine, RULES, NOW, everything, 4)) == []


def test_only_cases_on_owned_partitions_are_swept(sqlite_engine):
    for i in range(8):
        departed_without_arrival(sqlite_engine, f"CASE-{i:04d}")
    swept = {e.case_id for e in due_events(sqlite_engine, RULES, NOW, {1}, 4)}
    assert swept and swept == {f"CASE-{i:04d}" for i in range(8) if partition_of(f"CASE-{i:04d}", 4) == 1}


def test_partition_of_agrees_with_the_producer_partitioner():
    class Cluster:
        def topics(self):
            return {"t"}

        def partitions_for_topic(self, _topic):
            return set(range(12))

        def available_partitions_for_topic(self, _topic):
            return set(range(12))

    partitioner = DefaultPartitioner()
    for case_id in ("IN-2026-000123", "NP-6B86B2-000042", "abcd", "Z" * 64):
        key = case_id.encode()
        assert partition_of(case_id, 12) == partitioner.partition("t", key, key, None, None, Cluster())


def test_sweep_once_publishes_on_the_journey_topic_keyed_by_case(sqlite_engine, unit_settings, publisher):
    departed_without_arrival(sqlite_engine)
    count = sweep_once(unit_settings, sqlite_engine, publisher, set(range(12)), 12, now=NOW)
    assert count == len(publisher.records) >= 2
    assert {(r.topic, r.key) for r in publisher.records} == {(unit_settings.journey_topic, "CASE-0001")}
