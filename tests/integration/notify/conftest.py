"""One worker for the notifier's tests (module scope: starting faust costs seconds), with fast
retries; each test adds its own subscriptions and uses its own cases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from services.config import Settings
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.factories import make
from tests.isolation import own_settings, worker_settings_on
from tests.live import WorkerProcess, event_records, publish, timeline_ids
from tests.polling import wait_until

FAST = {"webhook_retry_base_s": 0.3, "webhook_retry_max_delay_s": 1.0, "webhook_timeout_s": 1.0, "webhook_poll_s": 0.2}


@pytest.fixture(scope="module")
def notify_settings(kafka_bootstrap: str, pg_admin_url: str, tmp_path_factory) -> Iterator[Settings]:
    base = worker_settings_on(kafka_bootstrap, tmp_path_factory.mktemp("notify"), partitions=3, **FAST)
    with own_settings(base, pg_admin_url, "notify") as settings:
        yield settings


@pytest.fixture(scope="module")
def notify_engine(notify_settings: Settings):
    engine = make_engine(notify_settings)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def notifying_worker(notify_settings: Settings, notify_engine, tmp_path_factory) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("notify-worker") / "worker.log"
    worker = WorkerProcess(notify_settings, log, worker_metrics_port=0, **FAST).start()
    try:
        wait_until(worker.started, timeout_s=120, what="the worker's start")
        # Warm up: once an event is projected, the worker holds its partitions of both topics.
        warm = make(
            "deployment.welfare_check_completed",
            datetime.now(UTC),
            case_id=f"WARM-{uuid.uuid4().hex[:8]}",
            recorded_at=datetime.now(UTC),
        )
        publish(notify_settings, event_records(notify_settings, [warm]))
        wait_until(lambda: str(warm.event_id) in timeline_ids(notify_engine), timeout_s=120, what="the warm-up event")
        yield worker
    finally:
        assert worker.stop() == 0, worker.log()
