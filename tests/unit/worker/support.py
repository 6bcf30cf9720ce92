"""Fakes and builders for the worker's unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import events
from services.kafka.producer import PublishFailed, Record
from services.worker.dlq import Message
from services.worker.rows import Delivered


class FakePublisher:
    """Keeps every acknowledged record; `fail_next` makes the next publishes fail like a down broker."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.fail_next = 0

    def publish(self, records: Sequence[Record]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise PublishFailed("Kafka did not acknowledge: fake outage")
        self.records.extend(records)

    def on(self, topic: str) -> list[Record]:
        return [r for r in self.records if r.topic == topic]

    def close(self) -> None:
        pass


def message(
    event: events.Envelope | bytes | None, offset: int, partition: int = 0, topic: str = "unit.journey.v1"
) -> Message:
    value = events.encode(event) if isinstance(event, events.Envelope) else event
    key = event.case_id.encode() if isinstance(event, events.Envelope) else b"CASE-0001"
    return Message(topic, partition, offset, key, value)


def delivered(event: events.Envelope, offset: int = 0, partition: int = 0) -> Delivered:
    return Delivered(event, events.encode(event).decode(), partition, offset)
