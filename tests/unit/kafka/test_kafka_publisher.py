"""Publisher: waits for every acknowledgement, and replaces its producer after any failure."""

from __future__ import annotations

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from services.config import Settings
from services.kafka.producer import REBUILD_BACKOFF_S, Publisher, PublishFailed, Record


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> object:
        if self.error is not None:
            raise self.error
        return "metadata"


class FakeSender:
    def __init__(self) -> None:
        self.forced = False

    def force_close(self) -> None:
        self.forced = True


class FakeProducer:
    """Acknowledges everything, or (`failing`) times out like a producer whose broker died."""

    def __init__(self, failing: bool = False, **config: object) -> None:
        self.config = config
        self.failing = failing
        self.sent: list[tuple[str, bytes, bytes, list]] = []
        self.closed = False
        self._sender = FakeSender()

    def send(self, topic: str, key: bytes, value: bytes, headers: list) -> FakeFuture:
        self.sent.append((topic, key, value, headers))
        return FakeFuture(KafkaTimeoutError("Timeout after waiting for 10 secs.") if self.failing else None)

    def close(self, timeout: float | None = None) -> None:
        if self.failing and timeout == 0:  # kafka-python flushes first, and times out
            raise KafkaTimeoutError("Timeout waiting for future")
        self.closed = True


class Factory:
    """Builds FakeProducers; `plan` says what each next one does: "ok", "failing" or "unreachable"."""

    def __init__(self, *plan: str) -> None:
        self.plan = list(plan)
        self.built: list[FakeProducer] = []

    def __call__(self, **config: object) -> FakeProducer:
        step = self.plan.pop(0)
        if step == "unreachable":
            raise KafkaConnectionError("Unable to bootstrap")
        producer = FakeProducer(failing=step == "failing", **config)
        self.built.append(producer)
        return producer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RECORDS = [Record("t.journey.v1", "case-1", b"one", (("event_type", b"x"),)), Record("t.journey.v1", "case-2", b"two")]


@pytest.fixture
def settings() -> Settings:
    return Settings(env="test", publish_timeout_s=2, _env_file=None)


def test_records_are_sent_with_their_keys_and_headers_on_an_idempotent_acks_all_producer(settings):
    factory = Factory("ok")
    Publisher(settings, factory=factory).publish(RECORDS)
    [producer] = factory.built
    assert producer.sent == [
        ("t.journey.v1", b"case-1", b"one", [("event_type", b"x")]),
        ("t.journey.v1", b"case-2", b"two", []),
    ]
    assert producer.config["acks"] == "all" and producer.config["enable_idempotence"] is True
    assert producer.config["bootstrap_timeout_ms"] == producer.config["max_block_ms"] == 2000


def test_a_timed_out_producer_is_stopped_and_replaced(settings):
    factory = Factory("failing", "ok")
    publisher = Publisher(settings, factory=factory)
    with pytest.raises(PublishFailed, match="did not acknowledge"):
        publisher.publish(RECORDS)
    stuck = factory.built[0]
    assert stuck._sender.forced  # its network thread does not linger

    publisher.publish(RECORDS)
    assert len(factory.built) == 2 and len(factory.built[1].sent) == 2


def test_after_a_failed_connection_callers_fail_fast_until_the_backoff_passes(settings):
    factory, clock = Factory("unreachable", "ok"), Clock()
    publisher = Publisher(settings, factory=factory, clock=clock)
    with pytest.raises(PublishFailed):
        publisher.publish(RECORDS)
    with pytest.raises(PublishFailed, match="unreachable"):
        publisher.publish(RECORDS)  # no second connection attempt yet
    assert factory.plan == ["ok"]

    clock.now += REBUILD_BACKOFF_S
    publisher.publish(RECORDS)
    assert len(factory.built) == 1 and len(factory.built[0].sent) == 2


def test_nothing_to_publish_builds_nothing(settings):
    factory = Factory()
    Publisher(settings, factory=factory).publish([])
    assert factory.built == []
