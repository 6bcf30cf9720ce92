"""The gateway's two use cases: take one event, or a batch, from an authenticated agency; publish
what is admitted and wait for Kafka's acknowledgement; say what happened to each event.

Blocking (Kafka acknowledgements): call these from a worker thread, never the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from events import Source
from services.gateway import referrals
from services.gateway.admission import Admitted, Refused, admit, batch_items, parse_json
from services.kafka.producer import Record


class Publishes(Protocol):
    """What the gateway needs of a publisher (`services.kafka.producer.Publisher`, or a fake)."""

    def publish(self, records: Sequence[Record]) -> None: ...  # raises PublishFailed
    def reachable(self) -> bool: ...
    def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Intake:
    def __init__(self, publisher: Publishes, topic: str, clock: Callable[[], datetime] = utc_now,
                 referred_agency: referrals.ReferralLookup | None = None) -> None:
        self._publisher = publisher
        self._topic = topic
        self._clock = clock
        self._referred_agency = referred_agency or (lambda _case_id, _referral_id: None)

    def _admit(self, data, source: Source, now: datetime) -> Admitted | Refused:
        """Mandate and validity (`admit`), then SPEC 10: a referral answered only by its agency."""
        outcome = admit(data, source, topic=self._topic, now=now)
        return referrals.bind(outcome, data, source, self._referred_agency)

    def one(self, body: bytes, source: Source) -> Admitted | Refused:
        """Raises `MalformedJson` (400) and `PublishFailed` (503: nothing accepted)."""
        outcome = self._admit(parse_json(body), source, self._clock())
        if isinstance(outcome, Admitted):
            self._publisher.publish([outcome.record])
        return outcome

    def batch(self, body: bytes, source: Source) -> list[Admitted | Refused] | Refused:
        """One outcome per item, in order; the admitted items are published together, so a
        `PublishFailed` means none of them may be reported accepted (retry the batch as is)."""
        items = batch_items(parse_json(body))
        if isinstance(items, Refused):
            return items
        now = self._clock()  # one recorded_at for the whole batch: it arrived at once
        outcomes = [self._admit(item, source, now) for item in items]
        self._publisher.publish([o.record for o in outcomes if isinstance(o, Admitted)])
        return outcomes
