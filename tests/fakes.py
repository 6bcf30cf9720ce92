"""Fakes shared by the tests: hand-written stand-ins that keep what they were given, so a test
asserts the resulting state rather than calls on a mock. A fake used by one test module only
stays in that module."""

from __future__ import annotations

from collections.abc import Sequence

from services.kafka.producer import PublishFailed, Record


class FakePublisher:
    """Stands in for `services.kafka.producer.Publisher`: keeps every record it acknowledged.

    `down = True` makes it an unreachable Kafka (every publish fails, `reachable()` is False);
    `fail_next = n` fails only the next n publishes, like a short outage the caller retries through.
    """

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.calls = 0
        self.down = False
        self.fail_next = 0
        self.closed = False

    def publish(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise PublishFailed("Kafka did not acknowledge: KafkaTimeoutError (a fake outage)")
        if self.down:
            raise PublishFailed("Kafka did not acknowledge: KafkaTimeoutError (a fake broker that is down)")
        self.records.extend(records)

    def on(self, topic: str) -> list[Record]:
        """The records published to `topic`, in order."""
        return [record for record in self.records if record.topic == topic]

    def reachable(self) -> bool:
        return not self.down

    def close(self) -> None:
        self.closed = True
