"""Publishing to Kafka with kafka-python: acks=all, idempotent, key = case_id.

The one producer code path for every service (gateway, query officer actions, worker sweep).
`publish` returns only after the broker acknowledged every record, or raises `PublishFailed`:
the caller answers 202 only on return, 503 on the exception.
"""

from __future__ import annotations

import selectors
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from services.config import Settings
from services.errors import PublishFailed
from services.logs import get_logger

log = get_logger(__name__)

# After a producer could not even be built (broker down), requests fail fast for this long
# instead of each one blocking for the whole bootstrap timeout behind the lock.
REBUILD_BACKOFF_S = 1.0


@dataclass(frozen=True)
class Record:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class QuietSelector(selectors.DefaultSelector):
    """The platform's selector, less the cost of one message (issue 20).

    kafka-python's network thread asks `get_key` about a socket before each wait for it to be
    readable or writable, and catches the KeyError when it is not registered, which is most of
    the time. The standard selector builds that error's message from the socket's repr: two
    system calls (getsockname, getpeername), each letting go of the GIL and waiting to take it
    back, for every produce request. Here the message does without it; nothing else changes."""

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        standard: Any = self  # selectors._BaseSelectorImpl, which the stubs call a BaseSelector
        try:
            return standard._fd_to_key[standard._fileobj_lookup(fileobj)]  # as the standard get_key
        except KeyError:
            raise KeyError("the file object is not registered") from None


def producer_config(settings: Settings) -> dict[str, object]:
    """KafkaProducer options: acks=all and idempotent; every wait bounded by publish_timeout_s
    (bootstrap included: kafka-python's default would block a request for 30 s)."""
    timeout_ms = int(settings.publish_timeout_s * 1000)
    return dict(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        acks="all",
        enable_idempotence=True,
        linger_ms=2,  # lets concurrent requests share a produce request
        max_block_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        request_timeout_ms=timeout_ms,
        delivery_timeout_ms=timeout_ms + 2000,
        client_id="passage",
        selector=QuietSelector,
        # kafka-python's own metrics are read by nothing here (ours are services.metrics); kept,
        # they cost its network thread a dozen sensor updates per produce request.
        metrics_enabled=False,
        **settings.kafka_client_options(),
    )


class Publisher:
    """A thread-safe wrapper around one idempotent KafkaProducer, rebuilt after any failure.

    Why rebuild: kafka-python's idempotent producer can lose its producer id when a broker dies
    and then time out on every later send; a fresh producer gets a fresh id. Records of a
    discarded producer are abandoned (their callers already got `PublishFailed`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        factory: Callable[..., KafkaProducer] = KafkaProducer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._factory = factory
        self._clock = clock
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._retry_at = 0.0

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is not None:
                return self._producer
            if self._clock() < self._retry_at:
                raise PublishFailed("Kafka is unreachable (the last connection attempt just failed)")
            try:
                self._producer = self._factory(**producer_config(self._settings))
            except (KafkaError, OSError):
                self._retry_at = self._clock() + REBUILD_BACKOFF_S
                raise
            return self._producer

    def publish(self, records: Sequence[Record]) -> None:
        """Send every record and wait (at most `publish_timeout_s` for all of them together)
        for the broker's acknowledgements. No flush: concurrent callers share linger batches."""
        if not records:
            return
        deadline = self._clock() + self._settings.publish_timeout_s
        producer = None
        try:
            producer = self._get()
            futures = [
                producer.send(r.topic, key=r.key.encode(), value=r.value, headers=list(r.headers)) for r in records
            ]
            for future in futures:
                future.get(timeout=max(0.0, deadline - self._clock()))
        except (KafkaError, OSError) as error:
            if producer is not None:
                self._discard(producer)
            raise PublishFailed(f"Kafka did not acknowledge: {error}") from error

    def reachable(self, timeout_s: float = 3.0) -> bool:
        """Whether the cluster answers a metadata request now (for readiness probes).
        Asked with a short-lived admin client: the producer's cached metadata says nothing."""
        timeout_ms = int(min(timeout_s, self._settings.publish_timeout_s) * 1000)
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self._settings.kafka_bootstrap.split(","),
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                client_id="passage-ready",
                **self._settings.kafka_client_options(),
            )
        except (KafkaError, OSError):
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def _discard(self, producer: KafkaProducer) -> None:
        with self._lock:
            if self._producer is producer:  # another thread may already have rebuilt it
                self._producer = None
        try:
            producer.close(timeout=0)
        except KafkaError:
            # kafka-python 3.0 flushes before closing, so close(timeout=0) raises while records
            # are pending and leaves the sender thread running; stop it the way close() would.
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                sender.force_close()
        except (OSError, RuntimeError) as error:
            log.warning("discarding producer failed", error=str(error))

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=5)
            except KafkaError as error:  # unacknowledged records at shutdown: their callers got 503
                log.warning("closing producer left records unacknowledged", error=str(error))
