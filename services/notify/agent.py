"""The notifier's faust agent on the alerts topic (SPEC section 11): decode, enqueue, done."""

from __future__ import annotations

import asyncio
import json

import faust

from services.config import Settings
from services.logs import get_logger
from services.notify.notifier import Notifier

log = get_logger(__name__)
BATCH = 200
BATCH_WAIT_S = 0.05
MAX_BACKOFF_S = 30.0


def add_notifier_agent(app: faust.App, settings: Settings, notifier: Notifier) -> None:
    """Register the agent (before the app starts). Offsets move on only after the deliveries are
    in the table, so a crash re-reads the changes and the delivery ids drop the copies."""
    alerts = app.topic(settings.alerts_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(alerts, name="notify-webhooks", concurrency=1)
    async def notify_webhooks(stream):
        async for batch in stream.take_events(BATCH, within=BATCH_WAIT_S):
            await _until_enqueued(notifier, _changes(batch))


async def _until_enqueued(notifier: Notifier, changes: list[tuple[int, dict]]) -> None:
    """While the database is down, wait and try again: the batch stays unacknowledged meanwhile."""
    delay = 0.5
    while True:
        try:
            await notifier.when_alerts_change_enqueue_deliveries(changes)
            return
        except Exception as error:  # a boundary: the agent must outlive a database outage
            log.warning("could not enqueue webhook deliveries; retrying", retry_in_s=delay, error=type(error).__name__)
            await asyncio.sleep(delay)
            delay = min(MAX_BACKOFF_S, delay * 2)


def _changes(batch) -> list[tuple[int, dict]]:
    changes = []
    for event in batch:
        try:
            message = json.loads(event.message.value)
            usable = isinstance(message.get("alert"), dict) and "case_id" in message["alert"] and "change" in message
        except (TypeError, ValueError, AttributeError):
            usable = False
        if not usable:
            log.warning(
                "skipped an alerts-topic record that is not an alert change",
                partition=event.message.partition,
                offset=event.message.offset,
            )
            continue
        changes.append((event.message.partition, message))
    return changes
