"""The query API over PostgreSQL and the real Kafka broker.

The session's broker and PostgreSQL server, but topics and a database of this package's own
(the database created, migrated, seeded with `tests.query_seed` and dropped): the exact counts
the contract asserts are not disturbed by rows other tests write, and the officer events these
tests publish never reach a worker test reading the session's journey topic.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from services.config import Settings
from services.kafka.producer import Publisher
from services.privacy.keyring import Keyring
from services.privacy.opener import read_record
from services.query.app import create_app
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.isolation import own_settings
from tests.polling import wait_until
from tests.query_contract import ApiHarness, Published
from tests.query_seed import seed


@pytest.fixture(scope="package")
def query_settings(settings: Settings, pg_admin_url: str):
    with own_settings(settings, pg_admin_url, "query") as own:
        migrate(own.db_url)
        yield own


@pytest.fixture(scope="package")
def query_world(query_settings: Settings):
    """The seeded database's engine and each officer's token."""
    engine = make_engine(query_settings)
    tokens = seed(engine, query_settings.secret_key)
    yield engine, tokens
    engine.dispose()


class JourneyReader:
    """Reads the journey topic from the beginning and finds records by event_id."""

    def __init__(self, settings: Settings, engine) -> None:
        self.engine, self.keyring = engine, Keyring.from_settings(settings)  # records are sealed (SPEC 9)
        self.consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
        partitions = [
            TopicPartition(settings.journey_topic, p)
            for p in self.consumer.partitions_for_topic(settings.journey_topic)
        ]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)
        self.seen: dict[str, Published] = {}

    def find(self, event_id: str, timeout_s: float = 20.0) -> Published:
        def read_more() -> Published | None:
            for records in self.consumer.poll(timeout_ms=500).values():
                for r in records:
                    event = read_record(self.engine, self.keyring, r.key, r.value)
                    self.seen[str(event.event_id)] = Published(
                        r.topic, r.key.decode(), {k: v for k, v in r.headers}, event
                    )
            return self.seen.get(event_id)

        return self.seen.get(event_id) or wait_until(
            read_more, timeout_s, f"event {event_id} on the journey topic", interval_s=0
        )


@pytest.fixture(scope="package")
def api(query_settings: Settings, query_world):
    engine, tokens = query_world
    publisher = Publisher(query_settings)
    app = create_app(query_settings, engine=engine, publisher=publisher)
    reader = JourneyReader(query_settings, engine)
    # Nothing listens on port 9: a publisher that cannot reach Kafka, failing within a second.
    dead = Publisher(query_settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:9", "publish_timeout_s": 1.0}))

    @contextmanager
    def kafka_down():
        working = app.state.clients
        app.state.clients = dataclasses.replace(working, publisher=dead)
        try:
            yield
        finally:
            app.state.clients = working

    with TestClient(app) as client:
        yield ApiHarness(client, tokens, query_settings.journey_topic, reader.find, kafka_down)
    reader.consumer.close()
    publisher.close()
    dead.close()
