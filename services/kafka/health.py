"""Readiness of Kafka for `/readyz`: the cluster answers and the journey topic exists.

A short-lived admin client per probe with short timeouts, so a dead broker answers "not ready"
in about a second and a probe never holds a connection between calls.
"""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaAdminClient

from services.config import Settings

PROBE_TIMEOUT_MS = 1500


def kafka_check(settings: Settings) -> Callable[[], bool]:
    def check() -> bool:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","),
            client_id="passage-ready",
            request_timeout_ms=PROBE_TIMEOUT_MS,
            bootstrap_timeout_ms=PROBE_TIMEOUT_MS,
            **settings.kafka_client_options(),
        )
        try:
            return settings.journey_topic in admin.list_topics()
        finally:
            admin.close()

    return check
