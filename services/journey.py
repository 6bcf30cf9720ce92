"""The one way Passage writes an event to the journey topic, whoever writes it: the gateway
(agencies' events), the query service (officer actions) and the worker's sweep (time alerts,
escalations, retention erasures).

- `journey_record(topic, event)`: the Kafka record of a stamped event (pure): key = case_id (one
  partition per case), value = the envelope's JSON, and the headers `event_type`,
  `schema_version` and `event_id`, so a consumer can route or skip a record without parsing it.
- `JourneyPublisher.publish(records)`: seals the personal fields (`services.privacy.Sealer`,
  which adds the header `encryption: passage-fields-v1` to a record it sealed), then publishes
  and waits for Kafka's acknowledgement. Raises `PublishFailed`; nothing is produced in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from events import Envelope, encode
from services.kafka.producer import Record


class PublishesRecords(Protocol):
    """Anything records can be published through (a `Publisher`, a `JourneyPublisher`, a fake)."""

    def publish(self, records: Sequence[Record]) -> None: ...  # raises PublishFailed


class Publishes(PublishesRecords, Protocol):
    """What a service needs of its publisher (`services.kafka.producer.Publisher`, or a fake)."""

    def reachable(self) -> bool: ...
    def close(self) -> None: ...


class Seals(Protocol):
    """Encrypts personal fields before records are produced (`services.privacy.Sealer`)."""

    def seal(self, records: Sequence[Record]) -> list[Record]: ...  # raises PublishFailed


def journey_record(topic: str, event: Envelope, value: bytes | None = None) -> Record:
    """The record of a stamped `event`; `value`: its encoding when the caller has it already."""
    event_id = str(event.event_id)
    headers = (
        ("event_type", event.event_type.encode()),
        ("schema_version", str(event.schema_version).encode()),
        ("event_id", event_id.encode()),
    )
    return Record(topic, key=event.case_id, value=encode(event) if value is None else value, headers=headers)


class JourneyPublisher:
    """Seal, then publish. `sealer` None: records go as built (tests of a service without keys)."""

    def __init__(self, publisher: Publishes, sealer: Seals | None = None) -> None:
        self.publisher = publisher
        self._sealer = sealer

    def publish(self, records: Sequence[Record]) -> None:
        self.publisher.publish(self._sealer.seal(records) if self._sealer is not None else list(records))
