"""Reading a topic back, from its beginning to the end offsets it had when asked (under a deadline)."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.config import Settings
from tests.polling import wait_until


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        group_id=None,
        **settings.kafka_client_options(),
    )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    assert partitions, f"{topic} has no partitions: were the topics created?"
    return partitions


def end_offsets(settings: Settings, topic: str | None = None) -> dict[int, int]:
    """Partition -> end offset of `topic` (the journey topic by default)."""
    consumer = _consumer(settings)
    try:
        ends = consumer.end_offsets(_partitions(consumer, topic or settings.journey_topic))
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        consumer.close()


def read_to_end(settings: Settings, topic: str | None = None, timeout_s: float = 30) -> list[ConsumerRecord]:
    """Every record of `topic` (the journey topic by default), from the beginning up to the end
    offsets it had at the time of the call."""
    topic = topic or settings.journey_topic
    consumer = _consumer(settings)
    try:
        partitions = _partitions(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []

        def at_end() -> dict[int, int] | None:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
            positions = {tp.partition: consumer.position(tp) for tp in partitions}
            return None if any(positions[tp.partition] < end for tp, end in ends.items()) else positions

        wait_until(at_end, timeout_s, f"{topic} read up to its end offsets", interval_s=0)
        return records
    finally:
        consumer.close()


def records_with_event_ids(settings: Settings, event_ids: set[str], timeout_s: float = 30) -> list[ConsumerRecord]:
    """The journey topic's records whose `event_id` header is in `event_ids` (see `read_to_end`)."""
    return [
        record
        for record in read_to_end(settings, timeout_s=timeout_s)
        if dict(record.headers).get("event_id", b"").decode() in event_ids
    ]
