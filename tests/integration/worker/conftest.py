"""Each worker integration test gets its own topics and its own PostgreSQL database, so a test's
consumer group, DLQ and views never see another test's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient

from services.config import Settings
from services.kafka.topics import create_topics, topic_names
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.databases import scratch_database


@pytest.fixture
def worker_settings(kafka_bootstrap: str, pg_admin_url: str, tmp_path) -> Iterator[Settings]:
    with scratch_database(pg_admin_url, "passage_worker") as database_url:
        settings = Settings(
            env="test",
            kafka_bootstrap=kafka_bootstrap,
            database_url=database_url,
            topic_prefix=f"w{uuid.uuid4().hex[:10]}",
            partitions=6,
            var_dir=tmp_path,
            sweep_interval_s=3600,
            worker_batch_size=200,
        )
        create_topics(settings)
        yield settings
    kafka_admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","))
    try:
        kafka_admin.delete_topics(topic_names(settings))
    finally:
        kafka_admin.close()


@pytest.fixture
def views_engine(worker_settings: Settings):
    """The test's view database at the Alembic head (the worker would migrate it on start too)."""
    engine = make_engine(worker_settings)
    migrate(engine)
    yield engine
    engine.dispose()
