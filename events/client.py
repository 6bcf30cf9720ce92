"""A small publisher for agencies written in Python: build events, POST them, retry safely.

Retries are safe because the gateway is idempotent on event_id (SPEC section 2): a retry sends
the very same body, so an event that was in fact written before a timeout takes effect once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import uuid4

import httpx
from pydantic import BaseModel

from events.catalogue import CATALOGUE
from events.codec import encode, validate
from events.envelope import Envelope

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({502, 503, 504})  # 503: Kafka unavailable, nothing written


class PublishError(Exception):
    """The gateway refused the event (4xx) or stayed unavailable; `body` is its error JSON."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(message)


class PassageClient:
    """`PassageClient("https://gateway", key).publish(client.new_event(...))`."""

    def __init__(
        self,
        base_url: str,
        agency_key: str,
        *,
        retries: int = 5,
        timeout: float = 10,
        backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries = retries
        self._backoff_s, self._max_backoff_s, self._sleep = backoff_s, max_backoff_s, sleep
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, transport=transport, headers={"Authorization": f"Bearer {agency_key}"}
        )

    def new_event(
        self,
        event_type: str,
        case_id: str,
        occurred_at: datetime,
        payload: Mapping[str, Any] | BaseModel,
        correlation_id: str | None = None,
    ) -> dict[str, Any]:
        """A checked, JSON-ready envelope with a fresh event_id at the type's latest version.

        Raises `InvalidEvent` here, before any network call, if the event would be refused.
        """
        spec = CATALOGUE.get(event_type)
        if spec is None:
            raise ValueError(f"unknown event type {event_type!r}; see events.CATALOGUE")
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        data = {
            "event_id": str(uuid4()),
            "event_type": event_type,
            "schema_version": spec.latest_version,
            "case_id": case_id,
            "occurred_at": occurred_at,
            "correlation_id": correlation_id,
            "payload": dict(payload),
        }
        checked: dict[str, Any] = json.loads(encode(validate(data)))
        return checked

    def publish(self, event: Mapping[str, Any] | Envelope) -> dict[str, Any]:
        """POST one event; returns `{"event_id", "status": "accepted"}`."""
        return self._post("/v1/events", _jsonable(event))

    def publish_batch(self, events: Iterable[Mapping[str, Any] | Envelope]) -> dict[str, Any]:
        """POST up to 500 events; returns `{"results": [...]}` in the order given."""
        return self._post("/v1/events/batch", {"events": [_jsonable(event) for event in events]})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PassageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(body, separators=(",", ":")).encode()  # identical bytes on every try
        headers = {"Content-Type": "application/json"}
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(path, content=content, headers=headers)
            except httpx.TransportError as error:  # connection refused/reset, timeouts
                reason, retry_after = f"{type(error).__name__}: {error}", None
            else:
                if response.status_code not in RETRY_STATUSES:
                    return _result(response)
                reason, retry_after = f"HTTP {response.status_code}", response.headers.get("Retry-After")
            if attempt == self.retries:
                break
            delay = self._delay(attempt, retry_after)
            log.warning(
                "publish to %s failed (%s); retry %d/%d in %.2fs", path, reason, attempt + 1, self.retries, delay
            )
            self._sleep(delay)
        raise PublishError(
            f"gateway unavailable after {self.retries + 1} attempts ({reason}); "
            "retrying later with the same event_id is safe"
        )

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self._max_backoff_s)
        # Exponential backoff with full jitter, so many agencies do not retry in lockstep.
        return random.uniform(0, min(self._max_backoff_s, self._backoff_s * 2**attempt))


def _jsonable(event: Mapping[str, Any] | Envelope) -> dict[str, Any]:
    if isinstance(event, Envelope):
        encoded: dict[str, Any] = json.loads(encode(event))
        return encoded
    return dict(event)


def _result(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.is_success and isinstance(body, dict):
        return body
    message = (
        body.get("error", {}).get("message") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    )
    raise PublishError(
        f"gateway answered {response.status_code}: {message or body}", status_code=response.status_code, body=body
    )
