"""The dead-letter topic: records the worker could not use, kept byte for byte with the reason.

A dead letter keeps the original key and value; its headers say why and where it came from:
`reason` (one line), `original_topic`, `original_partition`, `original_offset`, `failed_at`, and,
when the record has them, `event_id` and `event_type`; a reason that is a bare code
(`conflicting_duplicate`) also gets a `detail` header saying what it means and what to do.
`read` lists them for `passage dlq list`, `replay` publishes chosen ones back for `passage dlq
replay`; offsets are the dead-letter topic's own (it has one partition). Neither prints personal
data: reasons name fields and errors, never values (see `refusals`), and values are never shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from services.config import Settings
from services.kafka.producer import Publisher, Record

MAX_REASON = 2000  # a header, not a report: enough for every problem of a real event
DETAILS = {
    "conflicting_duplicate": "the views already hold this event_id with other content (gateway stamps "
    "recorded_at and source aside); publish the correction under a new event_id",
}
_EVENT_ID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,40}\.[a-z][a-z0-9_]{0,60}$")


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
    event_id: str | None = None
    event_type: str | None = None
    detail: str | None = None


def dead_letter(settings: Settings, message: Message, reason: str, now: datetime | None = None) -> Record:
    reason = " ".join(reason.split())[:MAX_REASON]
    headers: tuple[tuple[str, bytes], ...] = (
        ("reason", reason.encode()),
        ("original_topic", message.topic.encode()),
        ("original_partition", str(message.partition).encode()),
        ("original_offset", str(message.offset).encode()),
        ("failed_at", (now or datetime.now(UTC)).isoformat().encode()),
    )
    event_id, event_type = identity(message.value)
    headers += tuple(
        (name, value.encode())
        for name, value in (("event_id", event_id), ("event_type", event_type), ("detail", DETAILS.get(reason)))
        if value
    )
    key = message.key.decode(errors="replace") if message.key else ""
    return Record(settings.dlq_topic, key, message.value or b"", headers)


def read(settings: Settings, limit: int | None = None, timeout_s: float = 10.0) -> Iterator[DeadLetter]:
    """Every dead letter from the beginning up to the end seen when called (oldest first)."""
    for record in _records(settings, limit, timeout_s):
        yield _parse(record)


def replay(
    settings: Settings, publisher: Publisher, offsets: set[int] | None, timeout_s: float = 10.0
) -> list[DeadLetter]:
    """Publish the dead letters at `offsets` (None: every one) back to the topic they came from,
    key and value byte for byte, and return them. The worker then takes each as any record: a
    record whose cause was fixed (the database, the worker) is applied; one still refused comes
    back to the dead-letter topic; one already applied meanwhile is a duplicate (dropped when
    identical, dead-lettered again as a conflicting_duplicate otherwise). The value is never
    edited here: a record whose content is wrong is corrected by its publisher, through the
    gateway, under a new event_id."""
    chosen = [
        (record, _parse(record))
        for record in _records(settings, None, timeout_s)
        if offsets is None or record.offset in offsets
    ]
    if offsets is not None and (missing := offsets - {letter.offset for _record, letter in chosen}):
        raise LookupError(
            f"no dead letter at offset(s) {', '.join(map(str, sorted(missing)))} of "
            f"{settings.dlq_topic}; `passage dlq list` shows the offsets"
        )
    publisher.publish(
        [
            Record(
                letter.original_topic if letter.original_topic != "?" else settings.journey_topic,
                record.key.decode(errors="replace") if record.key else "",
                record.value or b"",
                (("replayed_from_dlq_offset", str(record.offset).encode()),),
            )
            for record, letter in chosen
        ]
    )
    return [letter for _record, letter in chosen]


def _records(settings: Settings, limit: int | None, timeout_s: float) -> Iterator:
    """The dead-letter topic's records from the beginning up to the end seen when called."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        enable_auto_commit=False,
        client_id="passage-dlq",
        consumer_timeout_ms=int(timeout_s * 1000),
        **settings.kafka_client_options(),
    )
    try:
        partitions = [
            TopicPartition(settings.dlq_topic, p)
            for p in sorted(consumer.partitions_for_topic(settings.dlq_topic) or ())
        ]
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
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            if consumer.position(tp) >= ends[tp]:
                remaining.discard(tp)
            if not remaining:
                return
    finally:
        consumer.close()


def identity(value: bytes | None) -> tuple[str | None, str | None]:
    """The record's event_id and event_type if it is a JSON object holding well-formed ones; never
    any other value of it (the rest may be personal data, or not JSON at all)."""
    try:
        data = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON, or nested too deep
        return None, None
    if not isinstance(data, dict):
        return None, None
    event_id, event_type = data.get("event_id"), data.get("event_type")
    return (
        event_id if isinstance(event_id, str) and _EVENT_ID.match(event_id) else None,
        event_type if isinstance(event_type, str) and _EVENT_TYPE.match(event_type) else None,
    )


def _parse(record) -> DeadLetter:
    headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}

    def number(name: str) -> int | None:
        value = headers.get(name, "")
        return int(value) if value.lstrip("-").isdigit() else None

    event_id, event_type = headers.get("event_id"), headers.get("event_type")
    if event_id is None and event_type is None:  # a dead letter without the identity headers
        event_id, event_type = identity(record.value)
    return DeadLetter(
        offset=record.offset,
        reason=headers.get("reason", "(no reason header)"),
        original_topic=headers.get("original_topic", "?"),
        original_partition=number("original_partition"),
        original_offset=number("original_offset"),
        failed_at=headers.get("failed_at", ""),
        key=record.key.decode(errors="replace") if record.key else None,
        event_id=event_id,
        event_type=event_type,
        detail=headers.get("detail"),
    )
