"""`passage keys reseal --into-prefix P`: copy the journey topic into `P.journey.v1` with every
personal field sealed: the way to be rid of clear-text records written before encryption.

Every record is copied in its partition order (same key, so the same partitioning), through the
same `Sealer` the gateway uses: clear personal fields are sealed under their case's key, fields
already sealed stay as they are, and an erased case's personal fields become `{"erased": true}`.
The operator then points the services at the new prefix, runs `passage replay` and deletes the
old topics (README, "Personal data"). Copying twice is harmless: the worker drops a repeated
event_id.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy.engine import Engine

from services.config import Settings
from services.kafka.producer import Publisher, Record
from services.kafka.topics import create_topics
from services.privacy.keyring import Keyring
from services.privacy.sealer import Sealer

PAGE = 1000


def reseal(settings: Settings, engine: Engine, into_prefix: str) -> int:
    """Copy `settings.journey_topic` up to its current end into `<into_prefix>.journey.v1`, sealed;
    returns how many records were copied."""
    if into_prefix == settings.topic_prefix:
        raise ValueError("--into-prefix must name a new topic prefix, not the one in use")
    target = settings.model_copy(update={"topic_prefix": into_prefix})
    create_topics(target)
    sealer, publisher = Sealer(engine, Keyring.from_settings(settings)), Publisher(target)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        client_id="passage-reseal",
        max_poll_records=PAGE,
        **settings.kafka_client_options(),
    )
    copied = 0
    try:
        ids = consumer.partitions_for_topic(settings.journey_topic)
        if not ids:
            raise LookupError(f"topic {settings.journey_topic} does not exist; nothing to reseal")
        partitions = [TopicPartition(settings.journey_topic, p) for p in sorted(ids)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            records = [
                Record(
                    target.journey_topic,
                    r.key.decode(errors="replace") if r.key else "",
                    r.value,
                    tuple((name, value) for name, value in r.headers or ()),
                )
                for tp, polled in consumer.poll(timeout_ms=1000).items()
                for r in polled
                if r.offset < ends[tp] and r.value is not None
            ]
            if records:
                publisher.publish(sealer.seal(records))
                copied += len(records)
        return copied
    finally:
        consumer.close()
        publisher.close()
