"""The ground under everything: kafka-python produces (acks=all, idempotent) to the real broker,
a faust agent consumes, and SQLModel reads and writes PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import faust
import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from sqlmodel import select

from services.kafka.producer import Publisher, Record
from services.storage.db import make_engine, session_scope
from services.storage.tables import Agency

pytestmark = pytest.mark.integration


@pytest.fixture
def own_topic(settings):
    """A topic of this test's own: the session's journey topic carries other tests' events."""
    name = f"{settings.topic_prefix}.foundation-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    yield name
    admin.delete_topics([name])
    admin.close()


def test_kafka_python_to_faust_agent(settings, own_topic, tmp_path):
    values = [f"value-{i}".encode() for i in range(5)]
    publisher = Publisher(settings)
    publisher.publish([Record(own_topic, "case-0001", v) for v in values])
    publisher.close()

    received: list[bytes] = []

    async def consume() -> None:
        app = faust.App(
            f"foundation-{uuid.uuid4().hex[:8]}",
            broker=f"kafka://{settings.kafka_bootstrap}",
            store="memory://",
            datadir=str(tmp_path),  # not the working directory: faust makes a folder there
            web_enabled=False,
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
        )
        topic = app.topic(own_topic, value_serializer="raw")
        done = asyncio.Event()

        @app.agent(topic)
        async def collect(stream):
            async for value in stream:
                received.append(value)
                if len(received) >= len(values):
                    done.set()

        await app.start()
        try:
            await asyncio.wait_for(done.wait(), timeout=60)
        finally:
            await app.stop()

    asyncio.run(consume())
    assert received == values


def test_sqlmodel_on_postgresql(settings):
    engine = make_engine(settings)
    assert engine.dialect.name == "postgresql"
    from datetime import UTC, datetime

    with session_scope(engine) as session:
        session.add(Agency(id="ngo-1", kind="helpline", key_hash="x", created_at=datetime.now(UTC)))
    with session_scope(engine) as session:
        row = session.exec(select(Agency).where(Agency.id == "ngo-1")).one()
    assert row.kind == "helpline"
    assert row.created_at.tzinfo is not None
    engine.dispose()
