"""Publishing to Kafka with kafka-python: acks=all, idempotent, key = case_id.

The one producer code path for every service (gateway, query officer actions, worker sweep).
`publish` returns only after the broker acknowledged every record, or raises `PublishFailed`:
the caller answers 202 only on return, 503 on the exception.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import KafkaProducer
from kafka.errors import KafkaError

from services.config import Settings
from services.logs import get_logger

log = get_logger(__name__)


class PublishFailed(RuntimeError):
    """The broker did not acknowledge in time or is unreachable; nothing can be promised."""


@dataclass(frozen=True)
class Record:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Publisher:
    """A thread-safe wrapper around one idempotent KafkaProducer, rebuilt after a failure
    (an idempotent producer that lost its producer id keeps failing until replaced)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self._settings.publish_timeout_s * 1000)
                self._producer = KafkaProducer(
                    bootstrap_servers=self._settings.kafka_bootstrap.split(","),
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=2,
                    max_block_ms=timeout_ms,
                    request_timeout_ms=timeout_ms,
                    delivery_timeout_ms=timeout_ms + 2000,
                    client_id="passage",
                    **self._settings.kafka_client_options(),
                )
            return self._producer

    def publish(self, records: Sequence[Record]) -> None:
        """Send every record and wait for all acknowledgements."""
        if not records:
            return
        try:
            producer = self._get()
            futures = [
                producer.send(r.topic, key=r.key.encode(), value=r.value, headers=list(r.headers))
                for r in records
            ]
            producer.flush(timeout=self._settings.publish_timeout_s)
            for future in futures:
                future.get(timeout=self._settings.publish_timeout_s)
        except (KafkaError, OSError) as error:
            self._discard()
            raise PublishFailed(f"Kafka did not acknowledge: {error}") from error

    def _discard(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except (KafkaError, OSError, RuntimeError) as error:  # pending records are abandoned
                log.warning("discarding producer failed", error=str(error))

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)
