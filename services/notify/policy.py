"""Pure decisions of the notifier (no I/O): which alert changes a subscription gets, what an
answer means, and when to try again.

- Filter: the alert's severity is at least the subscription's `min_severity`, and the case is in
  one of its scopes (the officers' scopes: `dest:<country>`, `origin:<region>`, `*`), judged on the
  case's destination and origin carried by the alerts-topic message.
- Outcome: 2xx delivered; timeouts, connection errors, 5xx and 429 are retried; any other 4xx
  (410 Gone included) is final and recorded as `rejected`; 3xx is not followed and is final too
  (a webhook URL that moved must be updated with `passage webhook add`).
- Backoff: exponential from `base_s`, capped at `max_delay_s`, with jitter (each delay drawn
  uniformly from its upper half, so retries of many deliveries spread out but never come early);
  once `retry_for_s` (24 hours) has passed since the delivery was enqueued it is `expired`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

from events import SEVERITY_RANK

DELIVERY_NAMESPACE = UUID("5f0d2a8e-7c41-4b9e-a6d3-0e8b1f2c9d47")


class Outcome(str, Enum):
    delivered = "delivered"
    retry = "retry"
    rejected = "rejected"


@dataclass(frozen=True)
class Filter:
    min_severity: str
    scopes: tuple[str, ...]

    def wants(self, alert: dict[str, Any]) -> bool:
        if SEVERITY_RANK.get(alert.get("severity", ""), 0) < SEVERITY_RANK[self.min_severity]:
            return False
        return in_scopes(self.scopes, alert.get("destination_country"), alert.get("origin_region"))


def in_scopes(scopes: Iterable[str], destination: str | None, origin: str | None) -> bool:
    for scope in scopes:
        if scope == "*":
            return True
        kind, _, value = scope.partition(":")
        if (kind == "dest" and value == destination) or (kind == "origin" and value == origin):
            return True
    return False


def delivery_id(subscription_id: str, message: dict) -> str:
    """Stable for one alert change and one subscription: the same across retries, and the same
    when the alerts topic delivers the change twice (the deliveries table keeps one)."""
    alert = message["alert"]
    key = f"{subscription_id}|{message.get('event_id')}|{alert['alert_id']}|{message['change']}"
    return str(uuid5(DELIVERY_NAMESPACE, key))


def body(message: dict) -> str:
    """The JSON sent: the alert's fields plus `change` and `case_id`."""
    alert = message["alert"]
    return json.dumps(
        {**alert, "change": message["change"], "case_id": alert["case_id"]}, separators=(",", ":"), sort_keys=True
    )


def outcome(status_code: int | None) -> Outcome:
    """None means no answer (timeout, refused connection, reset)."""
    if status_code is None or status_code == 429 or status_code >= 500:
        return Outcome.retry
    if 200 <= status_code < 300:
        return Outcome.delivered
    return Outcome.rejected


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    max_delay_s: float = 3600.0
    retry_for_s: float = 24 * 3600.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        ceiling = min(self.max_delay_s, self.base_s * 2 ** min(attempts - 1, 30))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def next_attempt(
        self, created_at: datetime, now: datetime, attempts: int, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again, or None when the retry window is over (the delivery expires)."""
        at = now + timedelta(seconds=self.delay(attempts, rng))
        return at if at <= created_at + timedelta(seconds=self.retry_for_s) else None
