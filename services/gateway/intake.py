"""The gateway's two use cases: take one event, or a batch, from an authenticated agency; publish
what is admitted and wait for Kafka's acknowledgement; say what happened to each event.

Blocking (Kafka acknowledgements): call these from a worker thread, never the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from events import Source
from services.gateway.admission import Admitted, Refused, admit, batch_items, parse_json
from services.kafka.producer import Record


class Publishes(Protocol):
    """What the gateway needs of a publisher (`services.kafka.producer.Publisher`, or a fake)."""

    def publish(self, records: Sequence[Record]) -> None: ...  # raises PublishFailed
    def reachable(self) -> bool: ...
    def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Seals(Protocol):
    """Encrypts personal fields before records are produced (`services.privacy.Sealer`)."""

    def seal(self, records: Sequence[Record]) -> list[Record]: ...  # raises PublishFailed


class Intake:
    def __init__(self, publisher: Publishes, topic: str, clock: Callable[[], datetime] = utc_now,
                 sealer: Seals | None = None) -> None:
        self._publisher = publisher
        self._topic = topic
        self._clock = clock
        self._seal = sealer.seal if sealer is not None else list

    def one(self, body: bytes, source: Source) -> Admitted | Refused:
        """Raises `MalformedJson` (400) and `PublishFailed` (503: nothing accepted)."""
        outcome = admit(parse_json(body), source, topic=self._topic, now=self._clock())
        if isinstance(outcome, Admitted):
            self._publisher.publish(self._seal([outcome.record]))
        return outcome

    def batch(self, body: bytes, source: Source) -> list[Admitted | Refused] | Refused:
        """One outcome per item, in order; the admitted items are published together, so a
        `PublishFailed` means none of them may be reported accepted (retry the batch as is)."""
        items = batch_items(parse_json(body))
        if isinstance(items, Refused):
            return items
        now = self._clock()  # one recorded_at for the whole batch: it arrived at once
        outcomes = [admit(item, source, topic=self._topic, now=now) for item in items]
        self._publisher.publish(self._seal([o.record for o in outcomes if isinstance(o, Admitted)]))
        return outcomes
