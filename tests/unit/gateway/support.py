"""Helpers for gateway tests: a fake publisher and valid envelopes to POST."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.kafka.producer import PublishFailed, Record
from tests.factories import DEFAULTS


class FakePublisher:
    """Keeps what it was asked to publish; `down = True` makes it behave like an unreachable Kafka."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.calls = 0
        self.down = False
        self.closed = False

    def publish(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if self.down:
            raise PublishFailed("Kafka did not acknowledge: KafkaTimeoutError")
        self.records.extend(records)

    def reachable(self) -> bool:
        return not self.down

    def close(self) -> None:
        self.closed = True


def new_event(event_type: str = "deployment.welfare_check_completed", **fields: Any) -> dict:
    """A valid publisher envelope (what an agency POSTs) with the type's default payload."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "case_id": "IN-2026-000123",
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": None,
        "payload": dict(DEFAULTS[event_type]),
        **fields,
    }


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
