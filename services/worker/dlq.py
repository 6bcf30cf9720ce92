"""The dead-letter topic: records the worker could not use, kept byte for byte with the reason.

A dead letter keeps the original key and value; its headers say why and where it came from:
`reason` (one line), `original_topic`, `original_partition`, `original_offset`, `failed_at`.
`read` lists them for `passage dlq list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from services.config import Settings
from services.kafka.producer import Record

MAX_REASON = 2000  # a header, not a report: enough for every problem of a real event


@dataclass(frozen=True)
class Message:
    """One record as consumed: what the worker sees of Kafka."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    reason: str
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    failed_at: str
    key: str | None


def dead_letter(settings: Settings, message: Message, reason: str, now: datetime | None = None) -> Record:
    reason = " ".join(reason.split())[:MAX_REASON]
    headers = (
        ("reason", reason.encode()),
        ("original_topic", message.topic.encode()),
        ("original_partition", str(message.partition).encode()),
        ("original_offset", str(message.offset).encode()),
        ("failed_at", (now or datetime.now(UTC)).isoformat().encode()),
    )
    key = message.key.decode(errors="replace") if message.key else ""
    return Record(settings.dlq_topic, key, message.value or b"", headers)


def read(settings: Settings, limit: int | None = None, timeout_s: float = 10.0) -> Iterator[DeadLetter]:
    """Every dead letter from the beginning up to the end seen when called (oldest first)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False,
        client_id="passage-dlq", consumer_timeout_ms=int(timeout_s * 1000), **settings.kafka_client_options(),
    )
    try:
        partitions = [TopicPartition(settings.dlq_topic, p)
                      for p in sorted(consumer.partitions_for_topic(settings.dlq_topic) or ())]
        if not partitions:
            raise LookupError(f"topic {settings.dlq_topic} does not exist; run `passage topics create`")
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > consumer.position(tp)}
        if not remaining:
            return
        count = 0
        for record in consumer:
            tp = TopicPartition(record.topic, record.partition)
            if record.offset < ends[tp]:
                yield _parse(record)
                count += 1
                if limit is not None and count >= limit:
                    return
            if consumer.position(tp) >= ends[tp]:
                remaining.discard(tp)
            if not remaining:
                return
    finally:
        consumer.close()


def _parse(record) -> DeadLetter:
    headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}

    def number(name: str) -> int | None:
        value = headers.get(name, "")
        return int(value) if value.lstrip("-").isdigit() else None

    return DeadLetter(
        offset=record.offset, reason=headers.get("reason", "(no reason header)"),
        original_topic=headers.get("original_topic", "?"), original_partition=number("original_partition"),
        original_offset=number("original_offset"), failed_at=headers.get("failed_at", ""),
        key=record.key.decode(errors="replace") if record.key else None,
    )
