"""Batching the demo for the gateway: one agency kind per batch, at most 500 events, and every
case's events sent in order (a case never has two batches in flight at once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from services.demo.journeys import generate
from services.demo.publish import publish, waves

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_waves_cover_every_event_once_in_each_cases_order_with_disjoint_cases_per_round():
    journeys = generate(120, seed=2, now=NOW)
    sent: dict[str, list[str]] = {}
    for batches in waves(journeys, max_batch=50):
        cases_this_round: set[str] = set()
        for batch in batches:
            assert 1 <= len(batch.events) <= 50
            cases = {e["case_id"] for e in batch.events}
            assert cases_this_round.isdisjoint(cases)  # so the round's batches may go concurrently
            cases_this_round |= cases
            for event in batch.events:
                sent.setdefault(event["case_id"], []).append(event["event_id"])
    for journey in journeys:
        assert sent.get(journey.case_id, []) == [e.envelope["event_id"] for e in journey.events]


def test_each_batch_holds_only_events_its_agency_publishes():
    journeys = generate(60, seed=4, now=NOW)
    publisher_of = {e.envelope["event_id"]: (e.kind, e.agency_id) for j in journeys for e in j.events}
    for batches in waves(journeys):
        for batch in batches:
            assert {publisher_of[e["event_id"]] for e in batch.events} == {(batch.kind, batch.agency_id)}
    finished = sum(b.finished for batches in waves(journeys) for b in batches)
    assert finished == sum(1 for j in journeys if j.events)


def test_publish_counts_accepted_and_lists_rejected_events():
    journeys = generate(30, seed=9, now=NOW)
    lock, seen = threading.Lock(), []

    def fake_gateway(batch):  # rejects migrant.registered from recruiting agents, accepts the rest
        with lock:
            seen.extend(e["event_id"] for e in batch.events)
        return {
            "results": [
                {"event_id": e["event_id"], "status": "rejected", "errors": [{"path": "", "message": "no"}]}
                if batch.kind == "recruiting_agent" and e["event_type"] == "migrant.registered"
                else {"event_id": e["event_id"], "status": "accepted"}
                for e in batch.events
            ]
        }

    batches_done = []
    outcome = publish(waves(journeys), fake_gateway, batches_done.append, concurrency=3)
    total = sum(len(j.events) for j in journeys)
    refused = sum(
        1
        for j in journeys
        for e in j.events
        if e.kind == "recruiting_agent" and e.envelope["event_type"] == "migrant.registered"
    )
    assert len(seen) == total and sum(len(b.events) for b in batches_done) == total
    assert refused > 0 and outcome.accepted == total - refused and len(outcome.rejected) == refused
    assert "migrant.registered" in outcome.rejected[0]
