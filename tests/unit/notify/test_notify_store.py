"""The deliveries table (SQLite): one row per change and subscription, in order per case, and
disabling a subscription cancels what it had pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify import store

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def change(case_id: str, event_id: str, severity: str = "critical", dest: str = "SA") -> dict:
    alert = {
        "alert_id": f"a-{case_id}-{event_id}",
        "case_id": case_id,
        "code": "DISTRESS",
        "severity": severity,
        "status": "open",
        "destination_country": dest,
        "origin_region": "Kerala",
    }
    return {"change": "raised", "event_id": event_id, "alert": alert}


@pytest.fixture
def sub(sqlite_engine) -> store.Subscription:
    return store.add_subscription(sqlite_engine, "helpline-1", "http://127.0.0.1:9/hook", "high", ["dest:SA"], NOW)


def test_a_change_seen_twice_is_one_delivery(sqlite_engine, sub):
    for _ in range(2):
        assert store.enqueue(sqlite_engine, [(0, change("C-1", "e1"))], [sub], NOW) == {sub.id}
    assert len(store.deliveries(sqlite_engine, sub.id)) == 1


def test_changes_outside_scope_or_below_min_severity_are_not_enqueued(sqlite_engine, sub):
    store.enqueue(
        sqlite_engine, [(0, change("C-1", "e1", severity="medium")), (0, change("C-2", "e2", dest="AE"))], [sub], NOW
    )
    assert store.deliveries(sqlite_engine, sub.id) == []


def test_a_retrying_delivery_holds_back_later_ones_of_its_case_only(sqlite_engine, sub):
    store.enqueue(
        sqlite_engine, [(0, change("C-1", "e1")), (0, change("C-1", "e2")), (1, change("C-2", "e3"))], [sub], NOW
    )
    first, other = store.due(sqlite_engine, sub.id, {0, 1}, NOW)
    assert (first.case_id, other.case_id) == ("C-1", "C-2")  # C-1's second change waits for its first
    store.record_attempt(sqlite_engine, first.seq, NOW, "pending", 503, None, NOW + timedelta(minutes=1))
    store.record_attempt(sqlite_engine, other.seq, NOW, "delivered", 200, None, None)
    assert store.due(sqlite_engine, sub.id, {0, 1}, NOW) == []  # C-1 waits for its retry
    [retry] = store.due(sqlite_engine, sub.id, {0, 1}, NOW + timedelta(minutes=1))
    assert retry.seq == first.seq and retry.attempts == 1
    store.record_attempt(sqlite_engine, first.seq, NOW, "delivered", 200, None, None)
    [second] = store.due(sqlite_engine, sub.id, {0, 1}, NOW + timedelta(minutes=1))
    assert second.case_id == "C-1" and second.seq > first.seq


def test_a_worker_sends_only_the_partitions_it_owns(sqlite_engine, sub):
    store.enqueue(sqlite_engine, [(0, change("C-1", "e1")), (1, change("C-2", "e2"))], [sub], NOW)
    assert [d.case_id for d in store.due(sqlite_engine, sub.id, {1}, NOW)] == ["C-2"]


def test_disable_cancels_pending_deliveries_and_unknown_ids_are_named(sqlite_engine, sub):
    store.enqueue(sqlite_engine, [(0, change("C-1", "e1"))], [sub], NOW)
    assert store.disable(sqlite_engine, sub.id) == 1
    assert [row["status"] for row in store.deliveries(sqlite_engine, sub.id)] == ["cancelled"]
    assert store.subscriptions(sqlite_engine, enabled_only=True) == []
    with pytest.raises(LookupError, match="passage webhook list"):
        store.disable(sqlite_engine, "nope")
