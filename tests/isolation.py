"""A test's own parts on the shared servers: a scratch database and topics that no other test
reads or writes, so a test may count everything it finds there.

`own_settings(base, pg_admin_url, "worker")` yields `base` with a fresh database
(`passage_worker_<hex>`, dropped on exit) and a fresh topic prefix (`w<hex>`: the name's first
letter), the topics created and deleted on exit unless `topics=False` (when the code under test
creates them itself, as `passage up` does).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient

from services.config import Settings
from services.kafka.topics import create_topics, topic_names
from tests.databases import scratch_database


def worker_settings_on(kafka_bootstrap: str, var_dir: Path, **fields: Any) -> Settings:
    """Settings for tests that run `passage worker`: time rules swept only when a test asks (the
    interval is an hour), batches of 200."""
    return Settings(
        env="test",
        kafka_bootstrap=kafka_bootstrap,
        var_dir=var_dir,
        sweep_interval_s=3600,
        worker_batch_size=200,
        **fields,
    )


@contextmanager
def own_settings(
    base: Settings, pg_admin_url: str, name: str, topics: bool = True, **fields: Any
) -> Iterator[Settings]:
    with scratch_database(pg_admin_url, f"passage_{name}") as database_url:
        settings = base.model_copy(
            update={"database_url": database_url, "topic_prefix": f"{name[0]}{uuid.uuid4().hex[:10]}", **fields}
        )
        if not topics:
            yield settings
            return
        create_topics(settings)
        try:
            yield settings
        finally:
            admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
            try:
                admin.delete_topics(topic_names(settings))
            finally:
                admin.close()
