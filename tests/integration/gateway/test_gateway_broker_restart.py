"""Kafka goes away and comes back: the gateway answers 503 (nothing written), then is ready and
accepts again without a restart of its own.

Runs a private single-node broker on 19392 (files under the test's tmp dir): the shared broker on
9092 is in use by everyone else and must never be stopped by a test."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from services.gateway.app import create_app
from services.kafka import broker
from services.kafka.topics import create_topics
from tests.factories import bearer, new_event
from tests.integration.topics import end_offsets, records_with_event_ids
from tests.polling import wait_until
from tests.servers import serving

pytestmark = pytest.mark.integration
PRIVATE_BOOTSTRAP = "127.0.0.1:19392"


def _producer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kafka-python-producer")]


@pytest.fixture
def private_kafka(settings, tmp_path):
    private = settings.model_copy(
        update={"kafka_bootstrap": PRIVATE_BOOTSTRAP, "var_dir": tmp_path, "partitions": 2, "publish_timeout_s": 3.0}
    )
    broker.start(private)
    try:
        create_topics(private)
        yield private
    finally:
        broker.stop(private)


@pytest.mark.timeout(900)  # two broker start-ups: slow on a busy machine
def test_kafka_down_is_503_and_its_return_is_noticed_without_a_restart(private_kafka, agency_keys):
    key = bearer(agency_keys["helpline"])
    with serving(create_app(private_kafka)) as url, httpx.Client(base_url=url, timeout=60) as client:
        first = new_event()
        assert client.post("/v1/events", json=first, headers=key).status_code == 202
        before = end_offsets(private_kafka)

        broker.stop(private_kafka)
        lost = new_event()
        began = time.monotonic()
        refused = client.post("/v1/events", json=lost, headers=key)
        assert refused.status_code == 503, refused.text
        assert time.monotonic() - began < 3 * private_kafka.publish_timeout_s + 5  # answers, does not hang
        assert int(refused.headers["Retry-After"]) > 0
        assert client.post("/v1/events/batch", json={"events": [new_event()]}, headers=key).status_code == 503
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        # The discarded producers' network threads stop (kafka-python would leave them retrying).
        wait_until(lambda: len(_producer_threads()) <= 1, 30, "the discarded producer threads stopped", 0.5)

        broker.start(private_kafka)
        wait_until(lambda: client.get("/readyz").status_code == 200, 60, "the gateway ready again", 0.5)
        retried = wait_until(
            lambda: (r := client.post("/v1/events", json=lost, headers=key)).status_code == 202 and r,
            60,
            "the same event_id accepted after the broker returned",
            0.5,
        )
        assert retried.json()["event_id"] == lost["event_id"]

    after = end_offsets(private_kafka)
    assert sum(after.values()) == sum(before.values()) + 1  # only the retry: the 503s wrote nothing
    assert len(records_with_event_ids(private_kafka, {lost["event_id"]})) == 1
    assert len(records_with_event_ids(private_kafka, {first["event_id"]})) == 1
