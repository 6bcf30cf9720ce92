"""SPEC section 14 on the real parts: the gateway, the query service and the worker each as a
process (`passage gateway|query|worker`), events published through the gateway, then each
process's /metrics scraped for the named series. Also: the HTTP services exit 0 on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.config import ROOT
from services.gateway.agencies import add_agency
from services.query.officers import add_officer
from tests.factories import new_event
from tests.live import WorkerProcess, timeline_count
from tests.polling import wait_until
from tests.servers import free_port

pytestmark = pytest.mark.integration
REPORTS = 12


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics answer: (name, labels) -> value."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(found: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, have), value in found.items() if sample == name and wanted <= have)


def names(found: dict) -> set[str]:
    return {name for name, _labels in found}


class Service:
    """`passage gateway` or `passage query` as a process, with the worker's environment."""

    def __init__(self, command: str, env: dict, log_path) -> None:
        self.port = free_port()
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", command, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path

    def up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def parts(worker_settings, views_engine, tmp_path) -> Iterator[tuple[WorkerProcess, Service, Service, int]]:
    metrics_port = free_port()
    worker = WorkerProcess(worker_settings, tmp_path / "worker.log", worker_metrics_port=metrics_port).start()
    gateway = Service("gateway", worker.env, tmp_path / "gateway.log")
    query = Service("query", worker.env, tmp_path / "query.log")
    try:
        wait_until(lambda: gateway.up() and query.up() and worker.started(), timeout_s=120, what="all three parts")
        yield worker, gateway, query, metrics_port
    finally:
        for service in (gateway, query):
            if service.process.poll() is None:
                service.process.kill()
        worker.stop()


def test_each_process_serves_the_named_series_with_plausible_values(worker_settings, views_engine, parts):
    worker, gateway, query, metrics_port = parts
    worker_url = f"http://127.0.0.1:{metrics_port}"
    key = add_agency(views_engine, worker_settings.secret_key, "helpline-ops", "helpline").key
    token = add_officer(views_engine, worker_settings.secret_key, "sup-ops", "supervisor", ["*"]).token
    agency = {"Authorization": f"Bearer {key}"}
    for _ in range(REPORTS):
        answer = httpx.post(
            f"{gateway.url}/v1/events",
            headers=agency,
            timeout=30,
            json=new_event(
                "deployment.distress_reported", {"channel": "helpline"}, case_id=f"IN-OPS-{uuid.uuid4().hex[:8]}"
            ),
        )
        assert answer.status_code == 202, answer.text
    refused = httpx.post(
        f"{gateway.url}/v1/events",
        headers=agency,
        timeout=30,
        json={
            "event_id": str(uuid.uuid4()),
            "event_type": "deployment.distress_reported",
            "schema_version": 1,
            "case_id": "x",
            "occurred_at": "yesterday",
            "correlation_id": None,
            "payload": {},
        },
    )
    assert refused.status_code == 422
    wait_until(lambda: timeline_count(views_engine) == REPORTS, timeout_s=120, what="every report in the views")
    assert (
        httpx.get(f"{query.url}/v1/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    )

    at_gateway = samples(gateway.url)
    assert total(at_gateway, "passage_events_accepted_total", event_type="deployment.distress_reported") == REPORTS
    assert (
        total(at_gateway, "passage_events_refused_total", event_type="deployment.distress_reported", code="invalid")
        == 1
    )
    assert (
        total(at_gateway, "passage_http_request_duration_seconds_count", route="/v1/events", service="gateway")
        == REPORTS + 1
    )

    at_query = samples(query.url)
    assert total(at_query, "passage_http_request_duration_seconds_count", route="/v1/alerts", service="query") == 1

    def caught_up() -> dict:
        found = samples(worker_url)
        lags = [value for (name, _labels), value in found.items() if name == "passage_consumer_lag"]
        open_distress = total(found, "passage_open_alerts", code="DISTRESS", severity="critical")
        return found if lags and not any(lags) and open_distress == REPORTS else {}

    at_worker = wait_until(caught_up, timeout_s=60, what="lag 0 and every DISTRESS alert counted")
    journey_lag = [
        labels
        for (name, labels), _ in at_worker.items()
        if name == "passage_consumer_lag" and ("topic", worker_settings.journey_topic) in labels
    ]
    assert len(journey_lag) == worker_settings.partitions  # one series per partition, each 0
    assert total(at_worker, "passage_publish_to_view_seconds_count") == REPORTS
    assert 0 < total(at_worker, "passage_publish_to_view_seconds_sum") < 60 * REPORTS
    assert total(at_worker, "passage_worker_batch_size_sum") >= REPORTS
    assert "passage_sweep_duration_seconds_count" in names(at_worker)
    declared = httpx.get(f"{worker_url}/metrics", timeout=10).text
    for family in ("passage_dead_lettered_total counter", "passage_webhook_deliveries_total counter"):
        assert f"# TYPE {family}" in declared  # labelled counters: no sample until the first one
    assert httpx.get(f"{worker_url}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{worker_url}/readyz", timeout=10).json()["status"] == "ready"

    assert gateway.terminate() == 0
    assert query.terminate() == 0
