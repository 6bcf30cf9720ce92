"""SPEC section 14 as an operator sees it: after `passage up` and `passage demo`, each process's
/metrics holds the named series with the demo's figures: accepted events equal to the demo's
count, consumer lag back to 0 once the worker caught up, open alerts equal to the view's."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from services.storage.db import make_engine
from tests.e2e.test_up_demo import Up, _env, _free_port
from tests.integration.worker.support import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def scrape(port: int) -> list:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200
    return [s for family in text_string_to_metric_families(answer.text) for s in family.samples]


def total(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_after_the_demo_each_process_reports_the_demo_in_its_metrics(settings, monkeypatch):
    worker_port = _free_port()
    monkeypatch.setenv("PASSAGE_WORKER_METRICS_PORT", str(worker_port))
    up = Up(settings)
    try:
        up.wait_ready()
        demo = subprocess.run([sys.executable, "-m", "services", "demo", "--migrants", "20", "--seed", "7", "--json"],
                              env=_env(settings), capture_output=True, text=True, timeout=600)
        assert demo.returncode == 0, demo.stderr[-2000:]
        summary = json.loads(demo.stdout)
        gateway_port, query_port = up.ports

        gateway = scrape(gateway_port)
        assert total(gateway, "passage_events_accepted_total") == summary["events"]
        assert total(gateway, "passage_http_request_duration_seconds_count", service="gateway") > 0
        assert total(scrape(query_port), "passage_http_request_duration_seconds_count", service="query") > 0

        engine = make_engine(settings)
        with engine.connect() as conn:
            unresolved = conn.execute(text("SELECT count(*) FROM alerts WHERE status <> 'resolved'")).scalar_one()
        engine.dispose()

        def caught_up() -> list:
            samples = scrape(worker_port)
            lags = [s.value for s in samples if s.name == "passage_consumer_lag"]
            counted = total(samples, "passage_open_alerts")
            return samples if lags and not any(lags) and counted == unresolved else []

        worker = wait_until(caught_up, timeout_s=120, what="lag 0 and the open alerts counted")
        assert total(worker, "passage_publish_to_view_seconds_count") == summary["events"]
        assert total(worker, "passage_worker_batch_size_sum") >= summary["events"]  # records, duplicates included
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=120) == 0, up.output()
    finally:
        up.kill()
