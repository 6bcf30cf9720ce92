"""SPEC section 14 as an operator sees it: after `passage up` and `passage demo`, each process's
/metrics holds the named series with the demo's figures: accepted events equal to the demo's
count (with the demo's referral answers), consumer lag back to 0 once the worker caught up, open
alerts equal to the view's."""

from __future__ import annotations

import signal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from services.storage.db import make_engine
from tests.e2e.up import Up, run_demo
from tests.polling import wait_until
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def settings(isolated_settings):
    """`passage up` and the demo count everything in the views: a database and topics of their own."""
    return isolated_settings


def scrape(port: int) -> list:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200
    return [s for family in text_string_to_metric_families(answer.text) for s in family.samples]


def total(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_after_the_demo_each_process_reports_the_demo_in_its_metrics(settings, monkeypatch):
    worker_port = free_port()
    monkeypatch.setenv("PASSAGE_WORKER_METRICS_PORT", str(worker_port))
    up = Up(settings)
    try:
        up.wait_ready()
        summary = run_demo(settings, migrants=20, seed=7)
        gateway_port, query_port = up.ports

        gateway = scrape(gateway_port)
        accepted = total(gateway, "passage_events_accepted_total")  # final: every POST has been answered
        assert accepted >= summary["events"]  # the journeys, and the demo's referral answers
        assert total(gateway, "passage_http_request_duration_seconds_count", service="gateway") > 0

        def view_counts() -> tuple[int, int, int]:
            """Unresolved alerts, events in the views, and those of them that came through the gateway
            (officer events, case.*, come from the query service, time alerts from the sweep; watchlist
            events are kept in the watchlist table, not in a case's timeline)."""
            engine = make_engine(settings)
            try:
                with engine.connect() as conn:
                    return tuple(
                        conn.execute(
                            text(
                                "SELECT (SELECT count(*) FROM alerts WHERE status <> 'resolved'), (SELECT count(*) FROM timeline),"
                                " (SELECT count(*) FROM timeline WHERE event_type NOT LIKE 'case.%') + (SELECT count(*) FROM watchlist)"
                            )
                        ).one()
                    )
            finally:
                engine.dispose()

        wait_until(lambda: view_counts()[2] == accepted, timeout_s=120, what="every accepted event in the views")
        assert total(scrape(query_port), "passage_http_request_duration_seconds_count", service="query") > 0

        def caught_up() -> list:
            samples = scrape(worker_port)
            lags = [s.value for s in samples if s.name == "passage_consumer_lag"]
            if not lags or any(lags):
                return []
            unresolved, in_views, _ = view_counts()
            fresh = total(samples, "passage_open_alerts") == unresolved  # the gauge is refreshed every 15 s
            return samples if fresh and total(samples, "passage_publish_to_view_seconds_count") == in_views else []

        worker = wait_until(caught_up, timeout_s=120, what="lag 0, every event timed, the open alerts counted")
        assert total(worker, "passage_worker_batch_size_sum") >= total(worker, "passage_publish_to_view_seconds_count")
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=120) == 0, up.output()
    finally:
        up.kill()
