"""The query API's hardening rules (tests/query_hardening_contract.py) against PostgreSQL and
Kafka, plus what needs real concurrency: racing resolves across two query processes' apps."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from services.kafka.producer import Publisher
from services.query.app import create_app
from services.storage.db import make_engine
from tests.factories import bearer
from tests.query_hardening_contract import *  # noqa: F403 - the shared tests run here against PostgreSQL
from tests.query_hardening_contract import fresh_alert
from tests.servers import serving


@pytest.fixture
def views_engine(query_world):
    return query_world[0]


@pytest.mark.parametrize("action, body", [("resolve", {"note": "done"}), ("acknowledge", {})])
def test_of_concurrent_actions_on_one_alert_exactly_one_succeeds(query_settings, query_world, action, body):
    _engine, tokens = query_world
    alert_id = fresh_alert(query_world[0])
    engines = [make_engine(query_settings) for _ in range(2)]  # two query services, as two processes would be
    publishers = [Publisher(query_settings) for _ in range(2)]
    callers = 8
    barrier = Barrier(callers)
    try:
        with (
            serving(create_app(query_settings, engine=engines[0], publisher=publishers[0])) as first,
            serving(create_app(query_settings, engine=engines[1], publisher=publishers[1])) as second,
        ):

            def call(number: int) -> int:
                url = (first, second)[number % 2]
                barrier.wait()
                return httpx.post(
                    f"{url}/v1/alerts/{alert_id}/{action}", json=body, timeout=30, headers=bearer(tokens["sup-all"])
                ).status_code

            with ThreadPoolExecutor(callers) as pool:
                statuses = sorted(pool.map(call, range(callers)))
    finally:
        for publisher in publishers:
            publisher.close()
        for engine in engines:
            engine.dispose()
    assert statuses.count(202) == 1 and statuses.count(409) == callers - 1, statuses


def test_racing_requests_with_one_idempotency_key_publish_one_event(api, views_engine):
    alert_id, key = fresh_alert(views_engine), str(uuid.uuid4())
    headers = {**bearer(api.tokens["sup-all"]), "Idempotency-Key": key}
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: api.client.post(f"/v1/alerts/{alert_id}/resolve", json={"note": "x"}, headers=headers),
                range(4),
            )
        )
    accepted = {a.json()["event_id"] for a in answers if a.status_code == 202}
    assert len(accepted) == 1 and all(a.status_code in (202, 409) for a in answers)
